package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.modular.BalancedPartition;
import dev.cleave.modular.Enmeshment;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Network;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The enmeshment loss on a network's conv and linear layers: the same training on java, cpu and
 * the CUDA emulator, C rising on kernel slices and on matrices, resume across the assignment
 * point, and the errors of a selection that does not fit the network.
 */
class NetworkModularTest {
    /** conv2 = layers.2 (6 x 4 x 3 x 3), fc1 = layers.6 (12 x 96), fc2 = layers.8 (8 x 12). */
    static final String CNN = "conv:4,relu,conv:6,relu,maxpool,flatten,linear:12,relu,linear:8,relu,linear:4";

    static TrainConfig config(int epochs, ModularOptions modular) {
        return new TrainConfig("blobs", null, null, epochs, 32, 1e-2f, 0f, 0f, 1e-4f, 7, Device.Kind.CPU, 1, modular, null, null,
                null, CNN, "1x8x8");
    }

    static ModularOptions modular(String layers, String assign) {
        return new ModularOptions(20f, 2, layers, 1, assign);
    }

    /** Trains cfg to its end on the backend; the last metrics, the final tensors by name and the clusters. */
    private record Trained(List<EpochMetrics> metrics, Map<String, float[]> tensors, List<LayerClusters> clusters) {}

    private static Trained train(TrainConfig cfg, Backend backend, Dataset train, Dataset test) {
        TrainConfig c = cfg.withDevice(backend.device());
        try (backend; Network net = Trainer.initialNetwork(c, backend); Trainer t = new Trainer(c, backend, net)) {
            List<EpochMetrics> m = new ArrayList<>();
            while (t.epochsDone() < c.totalEpochs()) {
                m.add(t.runEpoch(train, test, ProgressListener.NONE));
            }
            Map<String, float[]> tensors = new java.util.LinkedHashMap<>();
            for (Network.Named n : net.tensors()) {
                tensors.put(n.name(), n.tensor().toArray());
            }
            return new Trained(m, tensors, t.clusters());
        }
    }

    @Test
    void modularCnnTrainingAgreesOnJavaCpuAndEmulatedCuda() {
        Dataset train = TrainerTest.blobs(192, 31), test = TrainerTest.blobs(64, 32);
        TrainConfig cfg = config(3, modular("conv2,fc2", "cocluster"));
        Trained cpu = train(cfg, Device.cpu(1).open(), train, test);
        Trained java = train(cfg, Device.java().open(), train, test);
        Trained emu = train(cfg, Device.cudaEmu().withThreads(1).open(), train, test);
        assertEquals(List.of(2, 8), cpu.clusters().stream().map(LayerClusters::layer).toList());
        for (Trained other : List.of(java, emu)) {
            assertEquals(cpu.clusters(), other.clusters(), "the same co-clusters");
            for (Map.Entry<String, float[]> e : cpu.tensors().entrySet()) {
                float[] a = e.getValue(), b = other.tensors().get(e.getKey());
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 2e-4 + 2e-3 * Math.abs(a[i]), e.getKey() + "[" + i + "]");
                }
            }
            for (int ep = 1; ep < 3; ep++) {
                Map<String, Double> c = cpu.metrics().get(ep).clusterability(), o = other.metrics().get(ep).clusterability();
                assertEquals(c.keySet(), o.keySet());
                for (String k : c.keySet()) {
                    assertEquals(c.get(k), o.get(k), 1e-4, k + " after epoch " + (ep + 1));
                }
            }
        }
        assertNull(cpu.metrics().get(0).clusterability(), "no C during the warm-up");
        assertEquals(List.of("layers.2.weight", "layers.8.weight"), List.copyOf(cpu.metrics().get(1).clusterability().keySet()));
    }

    @Test
    void cRisesOnKernelSlicesAndMatrices() {
        Dataset train = TrainerTest.blobs(640, 33), test = TrainerTest.blobs(200, 34);
        for (String assign : List.of("cocluster", "balanced")) {
            TrainConfig cfg = config(4, modular("conv2,fc1,fc2", assign));
            try (Backend backend = Device.cpu(2).open(); Network net = Trainer.initialNetwork(cfg.withDevice(backend.device()), backend);
                    Trainer t = new Trainer(cfg.withDevice(backend.device()), backend, net)) {
                t.runEpoch(train, test, ProgressListener.NONE); // the warm-up
                Map<String, float[]> warm = new java.util.HashMap<>();
                for (Network.Named n : net.tensors()) {
                    warm.put(n.name(), n.tensor().toArray());
                }
                List<EpochMetrics> m = new ArrayList<>();
                for (int e = 1; e < 4; e++) {
                    m.add(t.runEpoch(train, test, ProgressListener.NONE));
                }
                List<LayerClusters> clusters = t.clusters();
                assertEquals(List.of(2, 6, 8), clusters.stream().map(LayerClusters::layer).toList());
                if (assign.equals("balanced")) {
                    assertArrayEquals(BalancedPartition.labels(6, 2), clusters.get(0).rowLabels());
                    assertArrayEquals(BalancedPartition.labels(4, 2), clusters.get(0).colLabels(), "conv2's input channels");
                    assertArrayEquals(BalancedPartition.labels(96, 2), clusters.get(1).colLabels(), "fc1's input features");
                }
                int[] slices = {9, 1, 1};
                for (int i = 0; i < clusters.size(); i++) {
                    LayerClusters c = clusters.get(i);
                    String name = "layers." + c.layer() + ".weight";
                    double before = cOf(warm.get(name), c, slices[i]);
                    double after = m.get(2).clusterability().get(name);
                    assertEquals(cOf(net.tensors().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow().tensor()
                            .toArray(), c, slices[i]), after, 1e-6, "the metrics' C is the reference's on the final weights");
                    assertTrue(before < 0.8 && after > 0.95, assign + " " + name + ": C " + before + " at assignment, " + after
                            + " after 3 epochs of the loss");
                }
                assertTrue(m.get(2).testAccuracy() > 0.8, assign + ": " + m);
            }
        }
    }

    private static double cOf(float[] w, LayerClusters c, int slice) {
        double[] d = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            d[i] = w[i];
        }
        return Enmeshment.reference(d, c.rows(), c.cols(), slice, c.rowLabels(), c.colLabels(), c.k(), 0, null);
    }

    @Test
    void resumeAcrossTheAssignmentPointEqualsUninterrupted() {
        Dataset train = TrainerTest.blobs(160, 35), test = TrainerTest.blobs(40, 36);
        TrainConfig cfg = config(3, modular("conv2,fc2", "cocluster"));
        Checkpoint straight;
        List<Checkpoint> after = new ArrayList<>();
        try (Backend backend = Device.cpu(1).open(); Network net = Trainer.initialNetwork(cfg, backend);
                Trainer t = new Trainer(cfg, backend, net)) {
            for (int e = 0; e < 3; e++) {
                t.runEpoch(train, test, ProgressListener.NONE);
                after.add(t.checkpoint());
            }
            straight = after.get(2);
        }
        assertTrue(after.get(0).clusters().isEmpty(), "the warm-up's checkpoint has no clusters yet");
        assertEquals(2, after.get(1).clusters().size());
        for (int from = 0; from < 2; from++) { // before and after the assignment
            try (Backend backend = Device.cpu(1).open(); Network net = Trainer.initialNetwork(cfg, backend);
                    Trainer t = new Trainer(cfg, backend, net)) {
                t.restore(after.get(from));
                while (t.epochsDone() < 3) {
                    t.runEpoch(train, test, ProgressListener.NONE);
                }
                Checkpoint resumed = t.checkpoint();
                assertEquals(straight.clusters(), resumed.clusters());
                for (int i = 0; i < straight.parameters().size(); i++) {
                    String what = straight.names().get(i) + " resumed after epoch " + (from + 1);
                    assertArrayEquals(straight.parameters().get(i), resumed.parameters().get(i), what);
                    assertArrayEquals(straight.firstMoments().get(i), resumed.firstMoments().get(i), what);
                    assertArrayEquals(straight.secondMoments().get(i), resumed.secondMoments().get(i), what);
                }
            }
        }
    }

    @Test
    void clustersOfAnotherLayerAreRefusedOnRestore() {
        TrainConfig cfg = config(2, modular("fc2", "balanced"));
        Dataset train = TrainerTest.blobs(64, 37);
        Checkpoint c;
        try (Backend backend = Device.cpu(1).open(); Network net = Trainer.initialNetwork(cfg, backend);
                Trainer t = new Trainer(cfg, backend, net)) {
            t.runEpoch(train, train, ProgressListener.NONE);
            t.runEpoch(train, train, ProgressListener.NONE);
            c = t.checkpoint();
        }
        TrainConfig other = config(2, modular("conv2", "balanced"));
        try (Backend backend = Device.cpu(1).open(); Network net = Trainer.initialNetwork(other, backend);
                Trainer t = new Trainer(other, backend, net)) {
            String e = assertThrows(InvalidInputException.class, () -> t.restore(c)).getMessage();
            assertTrue(e.contains("saved clusters for layer 8 (8 x 12) do not fit this run's modular layers [2]"), e);
        }
    }

    @Test
    void aSelectionThatDoesNotFitTheNetworkIsRefusedByTheConfig() {
        String e = assertThrows(InvalidInputException.class, () -> config(3, modular("fc7", "balanced"))).getMessage();
        assertTrue(e.startsWith("--modular-layers fc7: 'fc7' is not a layer of --arch " + CNN), e);
        e = assertThrows(InvalidInputException.class, () -> config(3, new ModularOptions(20f, 5, "conv2", 1, "balanced")))
                .getMessage();
        assertTrue(e.startsWith("--modular-k 5 is more clusters than conv2 (layers.2) can hold: it has 6 output and 4 input channels"),
                e);
        e = assertThrows(InvalidInputException.class, () -> config(1, modular("fc2", "balanced"))).getMessage();
        assertTrue(e.contains("--warmup-epochs (1) must be less than --epochs (1)"), e);
        e = assertThrows(InvalidInputException.class, () -> config(3, modular("3", "balanced"))).getMessage();
        assertTrue(e.contains("layers.3 of --arch " + CNN + " is relu, which has no weights"), e);
    }
}
