package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.SliceNorm;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.ProgressListener;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Clustering and the shuffle test on the unit graph of a CNN: the entry points and the null models. */
class CnnClusteringTest {
    // A small CNN: conv 3 -> 8 (3x3), conv 8 -> 8 (3x3, batchnorm), conv 8 -> 6 (3x3), linear 6*2*2 -> 10,
    // linear 10 -> 4; about a quarter of the kernel slices are zero, so unit matrices hold zeros.
    static List<CnnLayer> cnn(long seed) {
        SplittableRandom r = Rng.stream(seed, "cnn-clustering-test");
        List<CnnLayer> layers = new ArrayList<>();
        int[][] convs = {{8, 3}, {8, 8}, {6, 8}};
        for (int[] c : convs) {
            float[] w = new float[c[0] * c[1] * 9];
            for (int s = 0; s < c[0] * c[1]; s++) {
                boolean zero = r.nextInt(4) == 0;
                for (int e = 0; e < 9; e++) {
                    w[s * 9 + e] = zero ? 0f : (float) (r.nextDouble() * 2 - 1);
                }
            }
            layers.add(CnnLayer.conv(c[0], c[1], 3, 3, w));
        }
        float[] gamma = new float[8];
        float[] var = new float[8];
        for (int j = 0; j < 8; j++) {
            gamma[j] = (float) (0.5 + r.nextDouble());
            var[j] = (float) r.nextDouble();
        }
        layers.set(1, layers.get(1).withBatchNorm(gamma, var, 1e-5));
        layers.add(CnnLayer.linear(10, 24, random(r, 240)).flattenedFrom(2, 2));
        layers.add(CnnLayer.linear(4, 10, random(r, 40)));
        return layers;
    }

    static float[] random(SplittableRandom r, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return w;
    }

    @Test
    void shuffledUnitMatricesKeepEachLayersMultisetOfValues() {
        for (CnnGraphOptions o : List.of(CnnGraphOptions.defaults(), CnnGraphOptions.f21(),
                CnnGraphOptions.defaults().withNorm(SliceNorm.L2))) {
            CnnUnitGraph g = CnnUnitGraph.build(cnn(3), o);
            List<FloatMatrix> original = g.unitMatrices();
            for (ShuffleMethod method : ShuffleMethod.values()) {
                List<FloatMatrix> shuffled = ShuffleTest.shuffle(g, method, Rng.stream(5, "shuffle/0"));
                assertEquals(original.size(), shuffled.size());
                boolean moved = false;
                for (int l = 0; l < original.size(); l++) {
                    float[] a = original.get(l).data();
                    float[] b = shuffled.get(l).data();
                    assertEquals(original.get(l).rows(), shuffled.get(l).rows());
                    assertEquals(original.get(l).cols(), shuffled.get(l).cols());
                    moved |= !Arrays.equals(a, b);
                    if (method == ShuffleMethod.LAYER_NONZERO) {
                        for (int e = 0; e < a.length; e++) {
                            assertEquals(a[e] == 0f, b[e] == 0f, o + " layer_nonzero keeps zero " + e + " of matrix " + l);
                        }
                    }
                    float[] sa = a.clone();
                    float[] sb = b.clone();
                    Arrays.sort(sa);
                    Arrays.sort(sb);
                    assertArrayEquals(sa, sb, o + " " + method + ": matrix " + l + " keeps its multiset of values");
                }
                assertEquals(true, moved, o + " " + method + " moved some value");
            }
            assertEquals(original, g.unitMatrices(), "the graph is not modified by shuffling");
        }
    }

    @Test
    void cnnEntryPointsRunTheMlpPathOnTheUnitMatrices() {
        CnnUnitGraph g = CnnUnitGraph.build(cnn(4), CnnGraphOptions.defaults());
        ClusterOptions c = ClusterOptions.defaults().withK(3).withNInit(4).withSeed(9).withThreads(1);
        ClusterResult viaCnn = SpectralClustering.cluster(cnn(4), CnnGraphOptions.defaults(), c);
        ClusterResult viaMatrices = SpectralClustering.cluster(g.unitMatrices(), c);
        assertEquals(viaMatrices.ncut(), viaCnn.ncut());
        assertArrayEquals(viaMatrices.labels(), viaCnn.labels());
        assertEquals(3 + 8 + 8 + 6 + 10 + 4, viaCnn.labels().length, "every unit, removed ones as -1");
        ShuffleOptions s = ShuffleOptions.defaults().withShuffles(3).withCluster(c);
        ShuffleResult a = ShuffleTest.run(g, s, ProgressListener.NONE);
        ShuffleResult b = ShuffleTest.run(g.unitMatrices(), s, ProgressListener.NONE);
        assertArrayEquals(b.ncuts(), a.ncuts());
        assertEquals(viaCnn.ncut(), a.trainedNcut());
        assertNotEquals(a.ncuts()[0], a.ncuts()[1], "shuffles differ");
    }
}
