package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Device;
import dev.cleave.nn.JavaBackend;
import dev.cleave.nn.Network;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Training a network off the MLP path (conv, pooling, batchnorm, dropout layers) on every host backend and the CUDA emulator. */
class NetworkTrainerTest {
    static final String SMALL_CNN = "conv:4,relu,maxpool,dropout:0.1,conv:6:k3:s1:p1:nobias,bn,relu,flatten,linear:12,relu,dropout:0.2,linear:4";

    static TrainConfig config(int epochs, PruneOptions prune, ClusterableInit init) {
        return new TrainConfig("blobs", null, null, epochs, 32, 1e-2f, 0f, 1e-5f, 1e-4f, 7, Device.Kind.CPU, 2, null, prune, init,
                null, SMALL_CNN, "1x8x8");
    }

    private static Network initial(TrainConfig cfg, Backend backend) {
        return Trainer.initialNetwork(cfg.withDevice(backend.device()), backend);
    }

    @Test
    void smallCnnLossFallsOnCpuAndJava() {
        Dataset train = TrainerTest.blobs(640, 1), test = TrainerTest.blobs(200, 2);
        TrainConfig cfg = config(4, null, null);
        for (Backend backend : new Backend[] {new CpuBackend(2), new JavaBackend()}) {
            TrainConfig c = cfg.withDevice(backend.device());
            try (backend; Network net = initial(cfg, backend); Trainer t = new Trainer(c, backend, net)) {
                List<EpochMetrics> m = new ArrayList<>();
                for (int e = 0; e < cfg.epochs(); e++) {
                    m.add(t.runEpoch(train, test, ProgressListener.NONE));
                }
                assertTrue(m.get(3).trainLoss() < 0.6 * m.get(0).trainLoss(), backend.device() + ": " + m);
                assertTrue(m.get(3).testAccuracy() > 0.85, backend.device() + ": " + m);
            }
        }
    }

    @Test
    void resumedCnnRunEqualsUninterrupted() {
        Dataset train = TrainerTest.blobs(200, 5), test = TrainerTest.blobs(60, 6);
        TrainConfig cfg = config(2, PruneOptions.f21(2), ClusterableInit.f21Cnn());
        Checkpoint straight;
        try (Backend backend = new CpuBackend(2); Network net = initial(cfg, backend); Trainer t = new Trainer(cfg, backend, net)) {
            while (t.epochsDone() < cfg.totalEpochs()) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            straight = t.checkpoint();
        }
        Checkpoint half;
        try (Backend backend = new CpuBackend(2); Network net = initial(cfg, backend); Trainer t = new Trainer(cfg, backend, net)) {
            for (int e = 0; e < 3; e++) { // into the pruning phase
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            half = t.checkpoint();
        }
        assertTrue(!half.pruneMasks().isEmpty() && !half.buffers().isEmpty(), "the checkpoint holds masks and running statistics");
        TrainConfig other = new TrainConfig("blobs", null, null, 2, 32, 1e-2f, 0f, 1e-5f, 1e-4f, 999, Device.Kind.CPU, 2, null,
                PruneOptions.f21(2), null, null, SMALL_CNN, "1x8x8");
        try (Backend backend = new CpuBackend(2); Network net = initial(other, backend); Trainer t = new Trainer(cfg, backend, net)) {
            t.restore(half);
            while (t.epochsDone() < cfg.totalEpochs()) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            Checkpoint resumed = t.checkpoint();
            assertEquals(straight.names(), resumed.names());
            for (int i = 0; i < straight.parameters().size(); i++) {
                assertArrayEquals(straight.parameters().get(i), resumed.parameters().get(i), straight.names().get(i));
                assertArrayEquals(straight.firstMoments().get(i), resumed.firstMoments().get(i), straight.names().get(i));
            }
            for (Map.Entry<String, float[]> b : straight.buffers().entrySet()) {
                assertArrayEquals(b.getValue(), resumed.buffers().get(b.getKey()), b.getKey());
            }
            for (Map.Entry<String, float[]> m : straight.pruneMasks().entrySet()) {
                assertArrayEquals(m.getValue(), resumed.pruneMasks().get(m.getKey()), m.getKey());
            }
        }
    }

    @Test
    void pruningZeroesConvKernelsAndLinearWeights() {
        Dataset train = TrainerTest.blobs(128, 7), test = TrainerTest.blobs(40, 8);
        TrainConfig cfg = config(1, PruneOptions.f21(1), null);
        try (Backend backend = new CpuBackend(2); Network net = initial(cfg, backend); Trainer t = new Trainer(cfg, backend, net)) {
            t.runEpoch(train, test, ProgressListener.NONE);
            EpochMetrics m = t.runEpoch(train, test, ProgressListener.NONE);
            assertEquals(0.9, m.sparsity(), 0.01);
            for (Network.Named n : net.tensors()) {
                if (n.spec().role() == dev.cleave.nn.Layer.Role.WEIGHT) {
                    long zeros = 0;
                    for (float v : n.tensor().toArray()) {
                        zeros += v == 0f ? 1 : 0;
                    }
                    assertEquals(0.9, zeros / (double) n.tensor().size(), 0.02, n.name());
                }
            }
        }
    }

    @Test
    void clusterableInitScalesWholeKernelSlicesAndLeavesTheFirstConv() {
        TrainConfig plain = config(1, null, null), ci = config(1, null, ClusterableInit.f21Cnn());
        try (Backend backend = new CpuBackend(1); Network a = initial(plain, backend); Network b = initial(ci, backend)) {
            assertArrayEquals(a.tensors().get(0).tensor().toArray(), b.tensors().get(0).tensor().toArray(), "first conv");
            float[] wa = a.tensors().get(2).tensor().toArray(), wb = b.tensors().get(2).tensor().toArray(); // layers.4.weight
            assertEquals("layers.4.weight", a.tensors().get(2).name());
            float up = ClusterableInit.f21Cnn().up(), down = ClusterableInit.f21Cnn().down();
            for (int slice = 0; slice < wa.length / 9; slice++) {
                float f = wb[slice * 9] / wa[slice * 9];
                assertTrue(Math.abs(f - up) < 1e-5 || Math.abs(f - down) < 1e-5, "slice " + slice + " scaled by " + f);
                for (int t = 1; t < 9; t++) {
                    assertEquals(f * wa[slice * 9 + t], wb[slice * 9 + t], 1e-6, "slice " + slice + " is scaled as a whole");
                }
            }
            assertEquals("layers.8.weight", a.tensors().get(7).name());
            assertArrayEquals(a.tensors().get(7).tensor().toArray(), b.tensors().get(7).tensor().toArray(), "linear left alone");
        }
    }

    @Test
    void oneCnnStepOnEmulatedCudaMatchesCpu() {
        Dataset train = TrainerTest.blobs(64, 9), test = TrainerTest.blobs(32, 10);
        TrainConfig cfg = new TrainConfig("blobs", null, null, 1, 64, 1e-2f, 0f, 1e-5f, 1e-4f, 7, Device.Kind.CPU, 1, null, null, null,
                null, SMALL_CNN, "1x8x8");
        List<List<float[]>> w = new ArrayList<>();
        double[] loss = new double[2];
        List<String> names = new ArrayList<>();
        Backend[] backends = {Device.cpu(1).open(), Device.cudaEmu().withThreads(1).open()};
        for (int b = 0; b < 2; b++) {
            TrainConfig c = cfg.withDevice(backends[b].device());
            try (Backend backend = backends[b]; Network net = initial(cfg, backend); Trainer t = new Trainer(c, backend, net)) {
                assertEquals(b == 1, net.onDevice());
                EpochMetrics m = t.runEpoch(train, test, ProgressListener.NONE); // one step: 64 images, batch 64
                loss[b] = m.testLoss();
                List<float[]> values = new ArrayList<>();
                names.clear();
                for (Network.Named n : net.tensors()) {
                    values.add(n.tensor().toArray());
                    names.add(n.name());
                }
                w.add(values);
                float[] before;
                try (Network fresh = initial(cfg, backend)) {
                    before = fresh.tensors().get(2).tensor().toArray();
                }
                assertNotEquals(before[0], values.get(2)[0], "the step moved the weights");
            }
        }
        for (int t = 0; t < names.size(); t++) {
            float[] a = w.get(0).get(t), c = w.get(1).get(t);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], c[i], 1e-5 + 1e-4 * Math.abs(a[i]), names.get(t) + "[" + i + "]");
            }
        }
        assertEquals(loss[0], loss[1], 1e-4);
    }

    @Test
    void aDatasetOfAnotherShapeIsAClearError() {
        TrainConfig cfg = config(1, null, null);
        Dataset wrong = new Dataset("tiny", 4, 4, 4, new float[16 * 2], new int[2]);
        try (Backend backend = new CpuBackend(1); Network net = initial(cfg, backend); Trainer t = new Trainer(cfg, backend, net)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> t.runEpoch(wrong, wrong, ProgressListener.NONE));
            assertTrue(e.getMessage().contains("1x8x8") && e.getMessage().contains("1x4x4"), e.getMessage());
        }
    }
}
