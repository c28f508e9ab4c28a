package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The spectral engine on a CUDA backend (device operator, the shared Chebyshev iteration over
 * device blocks, k-means with its assignment on the device) against the native engine and the
 * Java reference, on graphs whose answers are known. Run on the emulator by
 * {@link CudaEmuClusteringTest} and on a GPU by {@link CudaGpuClusteringTest}. Covers LaplacianEigensolver,
 * SpectralClustering, KMeans, CoClustering and ShuffleTest.
 *
 * <p>Tolerances: eigenvalues within 1e-8 of the native solver's (a residual r bounds an
 * eigenvalue's error by about r^2 / gap, far below that at the solver tolerance), residuals at or
 * below the solver tolerance (recomputed on N), iteration counts within 1 (same algorithm, same
 * start block; the orthonormalization rounds differently), n-cut within 1e-9, identical labels.
 */
abstract class CudaClusteringChecks {
    static final double EIGENVALUE_TOLERANCE = 1e-8;

    /** The CUDA backend under test. */
    abstract Device backend();

    /** Solves with the native engine and with the backend under test (same options otherwise) and compares. */
    private void assertSameEigenpairs(String what, String method, EigenOptions o, Function<EigenOptions, EigenResult> solve) {
        EigenResult nat = solve.apply(o);
        EigenResult cuda = solve.apply(o.withBackend(backend()));
        assertEquals(method, nat.method(), what + ": native solver path");
        assertEquals(method, cuda.method(), what + ": solver path");
        for (int j = 0; j < nat.k(); j++) {
            assertEquals(nat.eigenvalues()[j], cuda.eigenvalues()[j], EIGENVALUE_TOLERANCE, what + ": eigenvalue " + j);
        }
        assertTrue(cuda.maxResidual() <= o.tolerance(), what + ": max residual " + cuda.maxResidual() + " above "
                + o.tolerance());
        assertEquals(nat.iterations(), cuda.iterations(), 1, what + ": same algorithm, same start");
    }

    @Test
    void eigenpairsOfAGeneralGraphMatchNative() {
        CsrGraph g = TestGraphs.random(200, 0.07, 1).withoutIsolatedNodes();
        assertSameEigenpairs("random graph", "chebyshev", EigenOptions.defaults(8).withSolver(Solver.ITERATIVE).withSeed(1),
                o -> LaplacianEigensolver.smallest(g, o));
    }

    @Test
    void eigenpairsOfANetworkGraphMatchNativeThroughTheHalfOperator() {
        NetworkGraph g = NetworkGraph.fromWeights(TestGraphs.glorot(new int[] {60, 40, 40, 30, 8}, 5));
        assertSameEigenpairs("network graph", "chebyshev-bipartite",
                EigenOptions.defaults(12).withSolver(Solver.ITERATIVE).withTolerance(1e-8).withSeed(9),
                o -> LaplacianEigensolver.smallest(g, o));
    }

    @Test
    void closedFormSpectraOnBothSolverPaths() {
        // Cycle C_n: lambda_j = 1 - cos(2 pi j / n), j = 0, 1, 1, 2, 2, ... (the CSR path, not bipartite: n odd).
        int n = 61;
        for (Solver s : new Solver[] {Solver.DENSE, Solver.ITERATIVE}) {
            EigenResult r = LaplacianEigensolver.smallest(TestGraphs.cycle(n),
                    EigenOptions.defaults(5).withSolver(s).withTolerance(1e-9).withBackend(backend()));
            double[] want = {0, 1 - Math.cos(2 * Math.PI / n), 1 - Math.cos(2 * Math.PI / n), 1 - Math.cos(4 * Math.PI / n),
                1 - Math.cos(4 * Math.PI / n)};
            for (int j = 0; j < 5; j++) {
                assertEquals(want[j], r.eigenvalues()[j], 1e-8, s + " pair " + j);
            }
        }
    }

    @Test
    void plantedPartitionIsRecoveredWithNativeLabelsAndNcut() {
        int[] truth = new int[150];
        CsrGraph g = TestGraphs.planted(new int[] {40, 50, 60}, 0.3, 0.01, 4, truth);
        for (Solver s : new Solver[] {Solver.AUTO, Solver.ITERATIVE}) {
            ClusterOptions o = ClusterOptions.defaults().withK(3).withSeed(2).withSolver(s).withNInit(5);
            ClusterResult nat = SpectralClustering.cluster(g, o);
            ClusterResult cuda = SpectralClustering.cluster(g, o.withBackend(backend()));
            assertArrayEquals(KMeans.canonicalLabels(truth), cuda.labels(), s + ": the planted blocks");
            assertArrayEquals(nat.labels(), cuda.labels(), s + ": native labels");
            assertEquals(nat.ncut(), cuda.ncut(), 1e-9, s + ": n-cut");
            assertEquals(backend(), cuda.options().backend());
        }
    }

    @Test
    void networkClusteringMatchesNative() {
        List<FloatMatrix> w = TestGraphs.glorot(new int[] {60, 40, 40, 30, 8}, 6);
        ClusterOptions o = ClusterOptions.defaults().withK(4).withSeed(5).withSolver(Solver.ITERATIVE).withNInit(5);
        ClusterResult nat = SpectralClustering.cluster(w, o);
        ClusterResult cuda = SpectralClustering.cluster(w, o.withBackend(backend()));
        assertArrayEquals(nat.labels(), cuda.labels());
        assertEquals(nat.ncut(), cuda.ncut(), 1e-9);
        for (int j = 0; j < 4; j++) {
            assertEquals(nat.eigenvalues()[j], cuda.eigenvalues()[j], EIGENVALUE_TOLERANCE, "eigenvalue " + j);
        }
    }

    @Test
    void coClusteringMatchesNative() {
        FloatMatrix w = CoClusteringTest.planted(new int[60], new int[80], 5);
        for (CoClusterVariant v : CoClusterVariant.values()) {
            CoClusterOptions o = CoClusterOptions.defaults().withSeed(3).withVariant(v).withSolver(Solver.ITERATIVE);
            CoClusterResult nat = CoClustering.cocluster(w, o);
            CoClusterResult cuda = CoClustering.cocluster(w, o.withBackend(backend()));
            assertArrayEquals(nat.rowLabels(), cuda.rowLabels(), v + ": row labels");
            assertArrayEquals(nat.columnLabels(), cuda.columnLabels(), v + ": column labels");
            assertArrayEquals(nat.singularValues(), cuda.singularValues(), EIGENVALUE_TOLERANCE, v + ": singular values");
        }
    }

    @Test
    void kmeansMatchesTheReference() {
        int[] truth = new int[300];
        double[] x = KMeansTest.blobs(50, 6, 4, 0.5, 7, truth);
        KMeansOptions o = KMeansOptions.defaults(6).withSeed(3).withNInit(4);
        KMeansResult ref = KMeans.fit(x, 300, 4, o.withBackend(Device.java()));
        KMeansResult cuda = KMeans.fit(x, 300, 4, o.withBackend(backend()));
        assertArrayEquals(ref.labels(), cuda.labels());
        assertEquals(ref.inertia(), cuda.inertia(), 1e-9 * ref.inertia());
        assertEquals(ref.bestRestart(), cuda.bestRestart());
        assertEquals(ref.iterations(), cuda.iterations());
        assertArrayEquals(ref.centers(), cuda.centers(), 1e-12);
    }

    @Test
    void shuffleTestMatchesNative() {
        List<FloatMatrix> w = TestGraphs.glorot(new int[] {30, 20, 20, 6}, 8);
        ClusterOptions c = ClusterOptions.defaults().withK(3).withSeed(4).withSolver(Solver.ITERATIVE).withNInit(3)
                .withThreads(2);
        ShuffleOptions o = ShuffleOptions.defaults().withShuffles(3).withCluster(c);
        ShuffleResult nat = ShuffleTest.run(w, o);
        ShuffleResult cuda = ShuffleTest.run(w, o.withCluster(c.withBackend(backend())));
        assertEquals(nat.trainedNcut(), cuda.trainedNcut(), 1e-9);
        assertArrayEquals(nat.ncuts(), cuda.ncuts(), 1e-9);
    }
}
