package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.CsrGraph;
import dev.cleave.nn.Device;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Graphs of many connected components (issue 14 item 9): N's eigenvalue 1 has one eigenvector
 * per component, often more than the block holds. The solver locks the known null space in and
 * iterates for the rest; eigenvalues are checked against the dense LAPACK path, residuals are
 * computed here from the edges, and the returned null-space vectors must be the component
 * vectors of the largest components.
 */
class ManyComponentsTest {
    /** count disjoint cycles of len nodes, node ids shuffled (seeded) so components interleave. */
    static CsrGraph disjointCycles(int count, int len, long seed) {
        int n = count * len;
        int[] id = permutation(n, seed);
        int[] a = new int[n];
        int[] b = new int[n];
        float[] w = new float[n];
        for (int c = 0; c < count; c++) {
            for (int j = 0; j < len; j++) {
                a[c * len + j] = id[c * len + j];
                b[c * len + j] = id[c * len + (j + 1) % len];
                w[c * len + j] = 1f;
            }
        }
        return CsrGraph.fromEdges(n, a, b, w);
    }

    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** The symmetrized 2-nearest-neighbour graph of two tight 2-d Gaussian blobs (m points each). */
    static CsrGraph twoBlobsKnn(int m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = 2 * m;
        double[][] x = new double[n][2];
        for (int i = 0; i < n; i++) {
            double cx = i < m ? 0 : 10;
            x[i][0] = cx + 0.1 * gauss(r);
            x[i][1] = 0.1 * gauss(r);
        }
        List<int[]> e = new ArrayList<>();
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int i = 0; i < n; i++) {
            int best = -1;
            int second = -1;
            for (int j = 0; j < n; j++) {
                if (j == i) {
                    continue;
                }
                double d = dist(x[i], x[j]);
                if (best < 0 || d < dist(x[i], x[best])) {
                    second = best;
                    best = j;
                } else if (second < 0 || d < dist(x[i], x[second])) {
                    second = j;
                }
            }
            for (int j : new int[] {best, second}) {
                long key = (long) Math.min(i, j) * n + Math.max(i, j);
                if (seen.add(key)) {
                    e.add(new int[] {Math.min(i, j), Math.max(i, j)});
                }
            }
        }
        return TestGraphs.edges(n, e, null);
    }

    private static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    private static double dist(double[] a, double[] b) {
        return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]);
    }

    /** Checks eigenvalues against the dense LAPACK path, residuals from the edges, and the null-space vectors. */
    static EigenResult check(CsrGraph g, int k, Device b, long seed) {
        EigenOptions o = EigenOptions.defaults(k).withSolver(Solver.ITERATIVE).withBackend(b).withSeed(seed);
        EigenResult r = LaplacianEigensolver.smallest(g, o);
        assertEquals(EigenStatus.SUCCESSFUL, r.status(), r.toString());
        assertEquals(k, r.converged());
        EigenResult dense = LaplacianEigensolver.smallest(g, o.withSolver(Solver.DENSE).withBackend(Device.cpu()));
        for (int j = 0; j < k; j++) {
            assertEquals(dense.eigenvalues()[j], r.eigenvalues()[j], 1e-8, "pair " + j + " of " + r);
        }
        double res = LaplacianEigensolverTest.independentResidual(g, r);
        assertTrue(res <= o.tolerance() * 1.01, "independent residual " + res);
        // The null-space vectors are the component vectors D^1/2 1_C / ||.|| of the largest
        // components by volume (ties: the component with the smallest node), in that order.
        dev.cleave.graph.Components comps = g.components();
        int[] label = comps.labels();
        double[] deg = g.degrees();
        double[] vol = new double[comps.count()];
        int[] first = new int[comps.count()];
        Arrays.fill(first, Integer.MAX_VALUE);
        for (int i = 0; i < g.nodes(); i++) {
            vol[label[i]] += deg[i];
            first[label[i]] = Math.min(first[label[i]], i);
        }
        Integer[] rank = new Integer[comps.count()];
        for (int c = 0; c < rank.length; c++) {
            rank[c] = c;
        }
        Arrays.sort(rank, (x, y) -> vol[x] != vol[y] ? Double.compare(vol[y], vol[x]) : Integer.compare(first[x], first[y]));
        for (int j = 0; j < Math.min(k, comps.count()); j++) {
            double[] v = r.eigenvector(j);
            int c = rank[j];
            for (int i = 0; i < g.nodes(); i++) {
                double want = label[i] == c ? Math.sqrt(deg[i] / vol[c]) : 0.0;
                assertEquals(want, v[i], 1e-9, "null-space vector " + j + " (component " + c + ") at node " + i);
            }
        }
        return r;
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "JAVA", "CUDA_EMU"})
    void sixtyFiveCyclesAtK2AndK6(Device.Kind kind) {
        Device b = Device.of(kind, 2, msg -> {});
        CsrGraph g = disjointCycles(60, 5, 1);
        for (int k : new int[] {2, 6}) {
            EigenResult r = check(g, k, b, 0);
            assertEquals("components", r.method()); // 60 components >= k: no iteration
            assertEquals(0, r.iterations());
            for (double l : r.eigenvalues()) {
                assertEquals(0.0, l, 1e-12);
            }
        }
    }

    @Test
    void fewerComponentsThanPairsIterateForTheRest() {
        // 60 5-cycles at k 64: 60 zeros, then 1 - cos(2 pi / 5) = 0.691 (120 times).
        EigenResult r = check(disjointCycles(60, 5, 2), 64, Device.cpu(), 1);
        assertEquals("chebyshev-deflated", r.method());
        for (int j = 60; j < 64; j++) {
            assertEquals(1 - Math.cos(2 * Math.PI / 5), r.eigenvalues()[j], 1e-10);
        }
        // 8 disjoint 41-cycles: at k 2 the components alone; at k 12 four of the 16-fold 1 - cos(2 pi / 41).
        CsrGraph c41 = disjointCycles(8, 41, 3);
        for (Device b : new Device[] {Device.cpu(), Device.java()}) {
            assertEquals("components", check(c41, 2, b, 0).method());
            EigenResult r12 = check(c41, 12, b, 0);
            assertEquals("chebyshev-deflated", r12.method());
            assertEquals(1 - Math.cos(2 * Math.PI / 41), r12.eigenvalues()[11], 1e-10);
        }
        // Bipartite components (even cycles) go through the half operator M.
        EigenResult even = check(disjointCycles(10, 40, 4), 14, Device.cpu(), 0);
        assertEquals("chebyshev-deflated-bipartite", even.method());
        assertEquals(1 - Math.cos(2 * Math.PI / 40), even.eigenvalues()[13], 1e-10);
    }

    @Test
    void twoNearestNeighbourGraphsOfTwoBlobs() {
        for (int m : new int[] {250, 500}) {
            CsrGraph g = twoBlobsKnn(m, m);
            int c = g.components().count();
            assertTrue(c >= 10 && c < g.nodes() / 4, c + " components");
            check(g, 2, Device.cpu(), 0);
            EigenResult r = check(g, c + 4, Device.cpu(), 0);
            assertEquals("chebyshev-deflated", r.method());
            assertTrue(r.eigenvalues()[c] > 1e-6, "pair " + c + " is past the null space: " + r.eigenvalues()[c]);
        }
    }

    @Test
    void clusteringAManyComponentGraphKeepsEachComponentTogether() {
        CsrGraph g = disjointCycles(60, 5, 5);
        ClusterResult r = SpectralClustering.cluster(g, ClusterOptions.defaults().withK(2));
        int[] label = g.components().labels();
        int[] of = new int[60];
        Arrays.fill(of, -1);
        for (int i = 0; i < g.nodes(); i++) {
            int l = r.labels()[i];
            assertTrue(of[label[i]] < 0 || of[label[i]] == l, "component " + label[i] + " split");
            of[label[i]] = l;
        }
        assertTrue(r.converged());
    }
}
