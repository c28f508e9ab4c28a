package dev.cleave.cluster;

import dev.cleave.graph.CsrGraph;
import dev.cleave.nn.Mlp;
import dev.cleave.util.FloatMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded graphs and networks shared by the tests. */
final class TestGraphs {
    private TestGraphs() {}

    static CsrGraph path(int n) {
        int[] a = new int[n - 1];
        int[] b = new int[n - 1];
        float[] w = new float[n - 1];
        for (int i = 0; i + 1 < n; i++) {
            a[i] = i;
            b[i] = i + 1;
            w[i] = 1f;
        }
        return CsrGraph.fromEdges(n, a, b, w);
    }

    static CsrGraph cycle(int n) {
        int[] a = new int[n];
        int[] b = new int[n];
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
            b[i] = (i + 1) % n;
            w[i] = 1f;
        }
        return CsrGraph.fromEdges(n, a, b, w);
    }

    static CsrGraph complete(int n) {
        List<int[]> e = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                e.add(new int[] {i, j});
            }
        }
        return edges(n, e, null);
    }

    static CsrGraph completeBipartite(int m, int n) {
        List<int[]> e = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                e.add(new int[] {i, m + j});
            }
        }
        return edges(m + n, e, null);
    }

    /** Erdos-Renyi G(n, p) with weights uniform in (0, 1], seeded. */
    static CsrGraph random(int n, double p, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> e = new ArrayList<>();
        List<Float> w = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if (r.nextDouble() < p) {
                    e.add(new int[] {i, j});
                    w.add((float) (1.0 - r.nextDouble()));
                }
            }
        }
        return edges(n, e, w);
    }

    /**
     * Planted partition: blocks of the given sizes, dense inside (prob pIn, weight in [0.5, 1]),
     * sparse and weak between (prob pOut, weight 0.05); node order shuffled. truth[i] = block.
     */
    static CsrGraph planted(int[] sizes, double pIn, double pOut, long seed, int[] truth) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = truth.length;
        int[] block = new int[n];
        int at = 0;
        for (int b = 0; b < sizes.length; b++) {
            for (int i = 0; i < sizes[b]; i++) {
                block[at++] = b;
            }
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int i = 0; i < n; i++) {
            truth[perm[i]] = block[i];
        }
        List<int[]> e = new ArrayList<>();
        List<Float> w = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                boolean same = block[i] == block[j];
                if (r.nextDouble() < (same ? pIn : pOut)) {
                    e.add(new int[] {perm[i], perm[j]});
                    w.add(same ? (float) (0.5 + 0.5 * r.nextDouble()) : 0.05f);
                }
            }
        }
        return edges(n, e, w);
    }

    static CsrGraph edges(int n, List<int[]> e, List<Float> w) {
        int[] a = new int[e.size()];
        int[] b = new int[e.size()];
        float[] x = new float[e.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = e.get(i)[0];
            b[i] = e.get(i)[1];
            x[i] = w == null ? 1f : w.get(i);
        }
        return CsrGraph.fromEdges(n, a, b, x);
    }

    /** Glorot-uniform weights U(-a, a), a = sqrt(6 / (in + out)): the library's initialisation. */
    static List<FloatMatrix> glorot(int[] widths, long seed) {
        try (Mlp model = Mlp.glorotUniform(widths, seed)) {
            return model.weightMatrices();
        }
    }

    static final int[] MLP = {784, 256, 256, 256, 256, 10};
}
