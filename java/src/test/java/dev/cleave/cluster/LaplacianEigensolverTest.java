package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Closed-form normalized-Laplacian spectra (path, cycle, complete, complete bipartite) on both
 * backends and both solver paths; residuals on random graphs; native against the Java
 * reference; residuals computed here from the edges; non-convergence as a status.
 */
class LaplacianEigensolverTest {
    /**
     * max_j ||N v_j - mu_j v_j|| of a result's pairs, computed here from the graph's edges
     * (N = D^-1/2 A D^-1/2, mu_j = 1 - lambda_j), not taken from the result.
     */
    static double independentResidual(CsrGraph c, EigenResult r) {
        double[] d = c.degrees();
        double worst = 0;
        for (int j = 0; j < r.k(); j++) {
            double[] v = r.eigenvector(j);
            double mu = 1 - r.eigenvalues()[j];
            double s = 0;
            for (int i = 0; i < c.nodes(); i++) {
                double nv = 0;
                for (long e = c.rowStart(i); e < c.rowEnd(i); e++) {
                    nv += c.weight(e) * v[c.column(e)] / Math.sqrt(d[i] * d[c.column(e)]);
                }
                s += (nv - mu * v[i]) * (nv - mu * v[i]);
            }
            worst = Math.max(worst, Math.sqrt(s));
        }
        return worst;
    }

    static void assertSpectrum(CsrGraph g, double[] expected, EigenResult r, double tol) {
        double worst = 0;
        int at = -1;
        for (int j = 0; j < expected.length; j++) {
            double err = Math.abs(expected[j] - r.eigenvalues()[j]);
            if (err > worst) {
                worst = err;
                at = j;
            }
        }
        assertTrue(worst <= tol, "worst eigenvalue error " + worst + " at " + at + ": expected "
                + Arrays.toString(expected) + ", got " + Arrays.toString(r.eigenvalues()));
        assertEquals(EigenStatus.SUCCESSFUL, r.status());
        assertEquals(r.k(), r.converged());
        double res = independentResidual(g, r);
        assertTrue(res <= r.tolerance() * 1.01, "independent residual " + res + " (reported " + Arrays.toString(r.residuals())
                + ")");
    }

    static double[] sortedFirst(double[] all, int k) {
        double[] s = all.clone();
        Arrays.sort(s);
        return Arrays.copyOf(s, k);
    }

    static EigenOptions opts(int k, Device b, Solver s) {
        return EigenOptions.defaults(k).withBackend(b).withSolver(s).withTolerance(1e-9).withSeed(3);
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "JAVA", "CUDA_EMU"}) // CUDA: CudaGpuClusteringTest
    void pathGraphMatchesClosedFormOnBothSolverPaths(Device.Kind kind) {
        Device b = Device.of(kind, 2, msg -> {});
        int n = 120;
        double[] all = new double[n];
        for (int j = 0; j < n; j++) {
            all[j] = 1 - Math.cos(Math.PI * j / (n - 1));
        }
        CsrGraph g = TestGraphs.path(n);
        for (Solver s : new Solver[] {Solver.DENSE, Solver.ITERATIVE}) {
            EigenResult r = LaplacianEigensolver.smallest(g, opts(10, b, s));
            assertSpectrum(g, sortedFirst(all, 10), r, 1e-8);
            assertTrue(r.method().endsWith("-bipartite"), r.method());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "JAVA", "CUDA_EMU"}) // CUDA: CudaGpuClusteringTest
    void oddCycleMatchesClosedFormThroughTheFullOperator(Device.Kind kind) {
        Device b = Device.of(kind, 2, msg -> {});
        int n = 151; // odd: not bipartite, so N itself is iterated
        double[] all = new double[n];
        for (int j = 0; j < n; j++) {
            all[j] = 1 - Math.cos(2 * Math.PI * j / n);
        }
        for (Solver s : new Solver[] {Solver.DENSE, Solver.ITERATIVE}) {
            EigenResult r = LaplacianEigensolver.smallest(TestGraphs.cycle(n), opts(9, b, s));
            assertSpectrum(TestGraphs.cycle(n), sortedFirst(all, 9), r, 1e-8);
            assertEquals(s == Solver.DENSE ? "dense" : "chebyshev", r.method());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "JAVA", "CUDA_EMU"}) // CUDA: CudaGpuClusteringTest
    void evenCycleAndCompleteGraphs(Device.Kind kind) {
        Device b = Device.of(kind, 2, msg -> {});
        int n = 64;
        double[] all = new double[n];
        for (int j = 0; j < n; j++) {
            all[j] = 1 - Math.cos(2 * Math.PI * j / n);
        }
        assertSpectrum(TestGraphs.cycle(n), sortedFirst(all, 7), LaplacianEigensolver.smallest(TestGraphs.cycle(n),
                opts(7, b, Solver.AUTO)), 1e-8);
        int m = 40; // K_m: 0 and m/(m-1) (m-1 times)
        double[] expected = new double[6];
        Arrays.fill(expected, 1, 6, m / (m - 1.0));
        for (Solver s : new Solver[] {Solver.DENSE, Solver.ITERATIVE}) {
            assertSpectrum(TestGraphs.complete(m), expected, LaplacianEigensolver.smallest(TestGraphs.complete(m), opts(6, b, s)),
                    1e-8);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "JAVA", "CUDA_EMU"}) // CUDA: CudaGpuClusteringTest
    void completeBipartiteGraph(Device.Kind kind) {
        Device b = Device.of(kind, 2, msg -> {});
        // K_{m,n}: eigenvalues 0, 1 (m + n - 2 times), 2. The half operator has rank 1, so its
        // sigma_k is 0: the solver must notice and fall back to N.
        CsrGraph g = TestGraphs.completeBipartite(30, 50);
        for (Solver s : new Solver[] {Solver.DENSE, Solver.ITERATIVE}) {
            EigenResult r = LaplacianEigensolver.smallest(g, opts(5, b, s));
            assertSpectrum(g, new double[] {0, 1, 1, 1, 1}, r, 1e-8);
            assertTrue(!r.method().endsWith("-bipartite"), r.method());
        }
        EigenResult one = LaplacianEigensolver.smallest(g, opts(1, b, Solver.ITERATIVE));
        assertEquals("chebyshev-bipartite", one.method());
        assertSpectrum(g, new double[] {0}, one, 1e-8);
    }

    @Test
    void residualsOnRandomGraphsAndNativeAgreesWithReference() {
        for (long seed = 1; seed <= 2; seed++) {
            CsrGraph g = TestGraphs.random(260, 0.06, seed).withoutIsolatedNodes();
            EigenOptions o = EigenOptions.defaults(12).withSolver(Solver.ITERATIVE).withSeed(seed);
            EigenResult nat = LaplacianEigensolver.smallest(g, o);
            EigenResult ref = LaplacianEigensolver.smallest(g, o.withBackend(Device.java()));
            EigenResult dense = LaplacianEigensolver.smallest(g, o.withSolver(Solver.DENSE).withBackend(Device.java()));
            assertTrue(independentResidual(g, nat) <= 1e-6 && independentResidual(g, ref) <= 1e-6);
            for (int j = 0; j < 12; j++) {
                // A residual r bounds the eigenvalue error by about r^2 / gap: far below 1e-8 here.
                assertEquals(dense.eigenvalues()[j], nat.eigenvalues()[j], 1e-8, "native pair " + j);
                assertEquals(dense.eigenvalues()[j], ref.eigenvalues()[j], 1e-8, "reference pair " + j);
            }
            assertEquals(ref.iterations(), nat.iterations(), 1, "same algorithm, same start: same iteration count");
        }
    }

    @Test
    void networkGraphNativeMatchesReferenceAndVectorsAreEigenvectors() {
        NetworkGraph g = NetworkGraph.fromWeights(TestGraphs.glorot(new int[] {60, 40, 40, 30, 8}, 5));
        EigenOptions o = EigenOptions.defaults(12).withSolver(Solver.ITERATIVE).withTolerance(1e-8).withSeed(9);
        EigenResult nat = LaplacianEigensolver.smallest(g, o);
        EigenResult ref = LaplacianEigensolver.smallest(g, o.withBackend(Device.java()));
        EigenResult dense = LaplacianEigensolver.smallest(g.toCsr(), o.withSolver(Solver.DENSE).withBackend(Device.java()));
        assertEquals("chebyshev-bipartite", nat.method());
        for (int j = 0; j < 12; j++) {
            assertEquals(dense.eigenvalues()[j], nat.eigenvalues()[j], 1e-10);
            assertEquals(dense.eigenvalues()[j], ref.eigenvalues()[j], 1e-10);
        }
        // The vectors satisfy L v = lambda v on the CSR form of the same graph.
        CsrGraph c = g.toCsr();
        double[] d = c.degrees();
        for (int j = 0; j < 12; j++) {
            double[] v = nat.eigenvector(j);
            double worst = 0;
            for (int i = 0; i < c.nodes(); i++) {
                double nv = 0;
                for (long e = c.rowStart(i); e < c.rowEnd(i); e++) {
                    nv += c.weight(e) * v[c.column(e)] / Math.sqrt(d[i] * d[c.column(e)]);
                }
                worst = Math.max(worst, Math.abs(nv - (1 - nat.eigenvalues()[j]) * v[i]));
            }
            assertTrue(worst < 1e-7, "pair " + j + " max |N v - mu v| = " + worst);
        }
    }

    @Test
    void nonConvergenceIsAStatusAndRequireConvergedThrowsWithAHint() {
        CsrGraph g = TestGraphs.path(3000);
        EigenOptions o = EigenOptions.defaults(12).withSolver(Solver.ITERATIVE).withMaxIterations(2).withTolerance(1e-10);
        for (Device b : new Device[] {Device.cpu(), Device.java()}) {
            EigenResult r = LaplacianEigensolver.smallest(g, o.withBackend(b));
            assertEquals(EigenStatus.NOT_CONVERGING, r.status());
            assertEquals(2, r.iterations());
            int met = 0;
            for (double x : r.residuals()) {
                met += x <= 1e-10 ? 1 : 0;
            }
            assertEquals(met, r.converged());
            assertTrue(r.converged() < 12);
            EigenNotConvergedException e = assertThrows(EigenNotConvergedException.class, r::requireConverged);
            String m = e.getMessage();
            assertTrue(m.contains("after 2 iterations") && m.contains("--tolerance") && m.contains("--k"), m);
            assertTrue(!m.contains("maxIterations") && !m.contains("'dense'"), m); // options the CLI lacks
            assertEquals(EigenStatus.NOT_CONVERGING, e.status());
            assertEquals(r.converged(), e.converged());
        }
        assertEquals(EigenStatus.SUCCESSFUL, LaplacianEigensolver.smallest(TestGraphs.path(300), EigenOptions.defaults(3))
                .requireConverged().status());
    }

    @Test
    void badInputIsRejectedWithClearMessages() {
        CsrGraph withIsolated = CsrGraph.fromEdges(4, new int[] {0}, new int[] {1}, new float[] {1f});
        InvalidInputException a = assertThrows(InvalidInputException.class,
                () -> LaplacianEigensolver.smallest(withIsolated, EigenOptions.defaults(2)));
        assertTrue(a.getMessage().contains("node 2 has degree 0"), a.getMessage());
        InvalidInputException b = assertThrows(InvalidInputException.class,
                () -> LaplacianEigensolver.smallest(TestGraphs.path(5), EigenOptions.defaults(6)));
        assertTrue(b.getMessage().contains("k = 6") && b.getMessage().contains("at most 5"), b.getMessage());
        assertThrows(InvalidInputException.class, () -> EigenOptions.defaults(3).withTolerance(0));
        assertThrows(InvalidInputException.class, () -> EigenOptions.defaults(3).withBlockSize(3));
        assertThrows(InvalidInputException.class, () -> EigenOptions.defaults(0));
    }

    @Test
    void disconnectedGraphHasOneZeroEigenvaluePerComponent() {
        // Three disjoint paths: L has eigenvalue 0 three times.
        CsrGraph g = CsrGraph.fromEdges(9, new int[] {0, 1, 3, 4, 6, 7}, new int[] {1, 2, 4, 5, 7, 8},
                new float[] {1, 1, 1, 1, 1, 1});
        for (Device b : new Device[] {Device.cpu(), Device.java(), Device.cudaEmu()}) {
            EigenResult r = LaplacianEigensolver.smallest(g, EigenOptions.defaults(4).withBackend(b));
            assertEquals(0.0, r.eigenvalues()[2], 1e-10);
            assertEquals(1.0, r.eigenvalues()[3], 1e-10); // path P3: 0, 1, 2
        }
    }
}
