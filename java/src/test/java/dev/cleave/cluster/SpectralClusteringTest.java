package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.graph.RemovedNode;
import dev.cleave.io.Json;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Spectral clustering end to end: planted partitions, a hand-computed n-cut, disconnected
 * graphs, isolated nodes, bad input, thread independence, JSON, and F21's Glorot figure.
 */
class SpectralClusteringTest {
    static ClusterOptions opts(int k) {
        return ClusterOptions.defaults().withK(k).withSeed(1);
    }

    @ParameterizedTest
    @EnumSource(value = Device.Kind.class, names = {"CPU", "JAVA", "CUDA_EMU"}) // CUDA: CudaGpuClusteringTest
    void plantedPartitionIsRecoveredExactly(Device.Kind kind) {
        Device b = Device.of(kind, 2, msg -> {});
        int[] sizes = {40, 60, 50, 70, 30};
        int[] truth = new int[250];
        CsrGraph g = TestGraphs.planted(sizes, 0.5, 0.02, 21, truth);
        ClusterResult r = SpectralClustering.cluster(g, opts(5).withBackend(b));
        assertArrayEquals(KMeansTestLabels.canonical(truth), r.labels());
        assertEquals(5, r.clusters());
        assertTrue(r.ncut() < 0.5, "planted n-cut " + r.ncut());
    }

    @Test
    void plantedModulesOfANetworkAreRecovered() {
        // Three modules across 4 layers of 45 units: strong weights inside a module, weak across.
        SplittableRandom r = new SplittableRandom(8);
        int w = 45;
        List<FloatMatrix> ws = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            float[] d = new float[w * w];
            for (int i = 0; i < w; i++) {
                for (int j = 0; j < w; j++) {
                    boolean same = i / 15 == j / 15;
                    d[i * w + j] = (float) ((same ? 1.0 : 0.03) * (r.nextDouble() - 0.5));
                }
            }
            ws.add(new FloatMatrix(w, w, d));
        }
        ClusterResult res = SpectralClustering.cluster(ws, opts(3));
        int[] truth = new int[4 * w];
        for (int v = 0; v < truth.length; v++) {
            truth[v] = (v % w) / 15;
        }
        assertArrayEquals(KMeansTestLabels.canonical(truth), res.labels());
        assertEquals("dense-bipartite", res.solver());
    }

    @Test
    void ncutOfAKnownPartitionEqualsTheHandValue() {
        // Two triangles (edge weight 2) joined by one edge of weight 1: degrees 4,4,5 | 5,4,4.
        CsrGraph g = CsrGraph.fromEdges(6, new int[] {0, 1, 0, 3, 4, 3, 2}, new int[] {1, 2, 2, 4, 5, 5, 3},
                new float[] {2, 2, 2, 2, 2, 2, 1});
        NCut nc = SpectralClustering.ncut(g, new int[] {0, 0, 0, 1, 1, 1});
        assertEquals(2.0 / 13.0, nc.total(), 1e-15);
        assertArrayEquals(new double[] {1, 1}, nc.cut());
        assertArrayEquals(new double[] {13, 13}, nc.volume());
        ClusterResult r = SpectralClustering.cluster(g, opts(2));
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, r.labels());
        assertEquals(2.0 / 13.0, r.ncut(), 1e-12);
        assertArrayEquals(new double[] {1.0 / 13, 1.0 / 13}, r.clusterNcut(), 1e-12);
        // every node alone: each cluster's cut is its whole volume -> n-cut = number of clusters
        assertEquals(6.0, SpectralClustering.ncut(g, new int[] {0, 1, 2, 3, 4, 5}).total(), 1e-12);
    }

    @Test
    void isolatedNodesAreDroppedAndReportedOrRejected() {
        // Two triangles (0-1-2, 4-5-6) with node 3 and node 7 isolated.
        CsrGraph g = CsrGraph.fromEdges(8, new int[] {0, 1, 0, 4, 5, 4}, new int[] {1, 2, 2, 5, 6, 6},
                new float[] {1, 1, 1, 1, 1, 1});
        ClusterResult r = SpectralClustering.cluster(g, opts(2));
        assertArrayEquals(new int[] {0, 0, 0, -1, 1, 1, 1, -1}, r.labels());
        assertEquals(List.of(new RemovedNode(3, 0, 3), new RemovedNode(7, 0, 7)), r.removedNodes());
        assertEquals(6, r.nodes());
        assertEquals(8, r.totalNodes());
        assertEquals(2, r.components());
        assertEquals(0.0, r.ncut(), 1e-12, "disconnected components: nothing is cut");
        assertEquals(0.0, r.eigenvalues()[1], 1e-10, "one zero eigenvalue per component");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> SpectralClustering.cluster(g, opts(2).withIsolatedNodes(IsolatedNodes.REJECT)));
        assertTrue(e.getMessage().contains("the first: 3"), e.getMessage());
    }

    @Test
    void networkWithDeadNeuronsReportsThemWithLayerAndIndex() {
        List<FloatMatrix> ws = TestGraphs.glorot(new int[] {30, 20, 10}, 4);
        float[] d0 = ws.get(0).data().clone();
        for (int r = 0; r < 20; r++) {
            d0[r * 30 + 7] = 0f; // input 7 never used
        }
        float[] d1 = ws.get(1).data().clone();
        for (int c = 0; c < 10; c++) {
            d1[c * 20 + 3] = 0f; // hidden 3: cut from the outputs ...
        }
        for (int c = 0; c < 30; c++) {
            d0[3 * 30 + c] = 0f; // ... and from the inputs
        }
        ClusterResult r = SpectralClustering.cluster(List.of(new FloatMatrix(20, 30, d0), new FloatMatrix(10, 20, d1)), opts(3));
        assertEquals(List.of(new RemovedNode(7, 0, 7), new RemovedNode(33, 1, 3)), r.removedNodes());
        assertEquals(-1, r.label(7));
        assertEquals(-1, r.label(33));
        assertEquals(58, r.nodes());
    }

    @Test
    void badInputGetsClearErrors() {
        InvalidInputException big = assertThrows(InvalidInputException.class,
                () -> SpectralClustering.cluster(TestGraphs.path(5), opts(6)));
        assertTrue(big.getMessage().contains("k = 6") && big.getMessage().contains("at most 5"), big.getMessage());
        CsrGraph noEdges = CsrGraph.fromEdges(4, new int[0], new int[0], new float[0]);
        assertTrue(assertThrows(InvalidInputException.class, () -> SpectralClustering.cluster(noEdges, opts(2)))
                .getMessage().contains("no edges"));
        List<FloatMatrix> zero = List.of(FloatMatrix.zeros(4, 5), FloatMatrix.zeros(3, 4));
        assertTrue(assertThrows(InvalidInputException.class, () -> SpectralClustering.cluster(zero, opts(2)))
                .getMessage().contains("every weight of the network is zero"));
        List<FloatMatrix> nan = List.of(new FloatMatrix(2, 2, new float[] {1, Float.NaN, 1, 1}));
        assertTrue(assertThrows(InvalidInputException.class, () -> SpectralClustering.cluster(nan, opts(2)))
                .getMessage().contains("NaN"));
        assertThrows(InvalidInputException.class, () -> ClusterOptions.defaults().withK(0));
        assertThrows(InvalidInputException.class, () -> ClusterOptions.defaults().withNInit(0));
        assertThrows(InvalidInputException.class, () -> ClusterOptions.defaults().withThreads(-1));
        assertThrows(InvalidInputException.class, () -> SpectralClustering.ncut(TestGraphs.path(3), new int[] {0, 1}));
    }

    @Test
    void sameSeedSameLabelsOnOneThreadOrTwo() {
        NetworkGraph g = NetworkGraph.fromWeights(TestGraphs.glorot(new int[] {200, 120, 120, 40}, 6));
        ClusterResult one = SpectralClustering.cluster(g, ClusterOptions.defaults().withSeed(5).withThreads(1));
        ClusterResult two = SpectralClustering.cluster(g, ClusterOptions.defaults().withSeed(5).withThreads(2));
        assertArrayEquals(one.labels(), two.labels());
        assertEquals(one.ncut(), two.ncut(), 0.0);
        assertArrayEquals(one.eigenvalues(), two.eigenvalues(), 0.0);
        ClusterResult again = SpectralClustering.cluster(g, ClusterOptions.defaults().withSeed(5).withThreads(2));
        assertArrayEquals(two.labels(), again.labels());
        ClusterResult ref = SpectralClustering.cluster(g, ClusterOptions.defaults().withSeed(5).withBackend(Device.java()));
        assertArrayEquals(one.labels(), ref.labels(), "Java reference clusters the same");
        assertEquals(one.ncut(), ref.ncut(), 1e-9);
    }

    @Test
    void optionsAndResultsRoundTripThroughJson() {
        ClusterOptions o = ClusterOptions.defaults().withK(3).withSeed(-7).withSolver(Solver.ITERATIVE)
                .withBackend(Device.java()).withTolerance(1e-7);
        String json = Json.write(o);
        assertTrue(json.contains("\"n_init\":25") && json.contains("\"solver\":\"iterative\"")
                && json.contains("\"isolated_nodes\":\"drop\""), json);
        assertEquals(o, Json.read(json, ClusterOptions.class));
        CsrGraph g = CsrGraph.fromEdges(7, new int[] {0, 1, 0, 4, 5, 4, 2}, new int[] {1, 2, 2, 5, 6, 6, 4},
                new float[] {1, 1, 1, 1, 1, 1, 0.1f});
        ClusterResult r = SpectralClustering.cluster(g, opts(2));
        String rj = Json.write(r);
        for (String field : new String[] {"\"nodes\"", "\"edges\"", "\"k\"", "\"ncut\"", "\"labels\"", "\"eigenvalues\"",
                "\"residuals\"", "\"removed_nodes\"", "\"seconds\"", "\"iterations\"", "\"converged\""}) {
            assertTrue(rj.contains(field), field + " in " + rj);
        }
        assertEquals(r, Json.read(rj, ClusterResult.class));
        assertEquals(EigenOptions.defaults(4), Json.read(Json.write(EigenOptions.defaults(4)), EigenOptions.class));
    }

    @Test
    void untrainedGlorotMlpHasTheReferenceNcut() {
        // F21: an untrained Glorot-uniform 784-256-256-256-256-10 MLP has n-cut 10.30 at k = 12.
        double sum = 0;
        for (int s = 0; s < 5; s++) {
            ClusterResult r = SpectralClustering.cluster(TestGraphs.glorot(TestGraphs.MLP, 100 + s),
                    ClusterOptions.defaults().withSeed(s));
            assertEquals(1818, r.nodes());
            assertTrue(r.converged() && r.maxResidual() <= 1e-6);
            sum += r.ncut();
        }
        assertEquals(10.30, sum / 5, 0.05, "mean n-cut over 5 seeds");
    }

    /** Canonical relabelling, written independently of the code under test. */
    static final class KMeansTestLabels {
        static int[] canonical(int[] labels) {
            java.util.Map<Integer, Integer> map = new java.util.HashMap<>();
            int[] out = new int[labels.length];
            for (int i = 0; i < labels.length; i++) {
                out[i] = map.computeIfAbsent(labels[i], x -> map.size());
            }
            return out;
        }
    }
}
