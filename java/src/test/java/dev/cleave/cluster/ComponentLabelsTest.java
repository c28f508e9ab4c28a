package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.NetworkGraph;
import dev.cleave.util.FloatMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link GraphOperator#componentLabels} (which skips the redundant entries of dense rows once a
 * row without zeros has joined all of a piece's columns) against plain union-find over every
 * stored non-zero entry, on network graphs that are dense, dense with zeros, block-diagonal
 * (several components), with a full row only late in a layer, and sparse (CSR pieces).
 */
class ComponentLabelsTest {
    /** Plain union-find over every non-zero entry of every piece; labels in order of first operator row. */
    private static int[] reference(GraphOperator g) {
        int[] parent = new int[g.n];
        for (int i = 0; i < g.n; i++) {
            parent[i] = i;
        }
        for (GraphOperator.Piece p : g.pieces) {
            for (int i = 0; i < p.rows(); i++) {
                if (p.isDense()) {
                    for (int j = 0; j < p.cols(); j++) {
                        if (p.dense()[i * p.cols() + j] != 0f) {
                            join(parent, p.dst() + i, p.src() + j);
                        }
                    }
                } else {
                    for (long e = p.offsets()[i]; e < p.offsets()[i + 1]; e++) {
                        if (p.weights()[(int) e] != 0f) {
                            join(parent, p.dst() + i, p.src() + p.columns()[(int) e]);
                        }
                    }
                }
            }
        }
        int[] label = new int[g.n];
        java.util.Arrays.fill(label, -1);
        int[] rootLabel = new int[g.n];
        java.util.Arrays.fill(rootLabel, -1);
        int count = 0;
        for (int t = 0; t < g.n; t++) {
            int r = root(parent, t);
            if (rootLabel[r] < 0) {
                rootLabel[r] = count++;
            }
            label[t] = rootLabel[r];
        }
        return label;
    }

    private static int root(int[] parent, int a) {
        while (parent[a] != a) {
            a = parent[a];
        }
        return a;
    }

    private static void join(int[] parent, int a, int b) {
        int ra = root(parent, a), rb = root(parent, b);
        if (ra != rb) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
        }
    }

    /** A layer's weights: entries zero with probability {@code zeros}; blockDiagonal splits it in two; fullRow (or -1) has no zero. */
    private static FloatMatrix layer(Random r, int out, int in, double zeros, boolean blockDiagonal, int fullRow) {
        float[] a = new float[out * in];
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < in; j++) {
                boolean offBlock = blockDiagonal && (i < out / 2) != (j < in / 2);
                boolean zero = i != fullRow && r.nextDouble() < zeros;
                a[i * in + j] = offBlock || zero ? 0f : (float) r.nextGaussian() + 3f;
            }
        }
        return new FloatMatrix(out, in, a);
    }

    @Test
    void labelsEqualPlainUnionFind() {
        Random r = new Random(12);
        int cases = 0;
        for (double zeros : new double[] {0, 0.3, 0.7, 0.97}) {
            for (boolean blocks : new boolean[] {false, true}) {
                for (int fullRow : new int[] {-1, 0, 9}) {
                    List<FloatMatrix> w = new ArrayList<>();
                    w.add(layer(r, 12, 20, zeros, blocks, fullRow));
                    w.add(layer(r, 10, 12, zeros, blocks, fullRow));
                    w.add(layer(r, 4, 10, zeros, blocks, fullRow));
                    NetworkGraph graph;
                    try {
                        graph = NetworkGraph.fromWeights(w);
                    } catch (dev.cleave.util.InvalidInputException e) {
                        continue; // every weight zero: no graph
                    }
                    GraphOperator g = GraphOperator.of(graph);
                    assertArrayEquals(reference(g), g.componentLabels(),
                            "zeros " + zeros + ", block-diagonal " + blocks + ", full row " + fullRow);
                    cases++;
                }
            }
        }
        assertTrue(cases >= 20, "cases " + cases);
    }
}
