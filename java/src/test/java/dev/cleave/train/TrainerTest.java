package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Device;
import dev.cleave.nn.JavaBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TrainerTest {
    /** Four classes of 8x8 images: noisy bright patches in four different places. */
    static Dataset blobs(int count, long seed) {
        Random r = new Random(seed);
        float[] images = new float[count * 64];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int c = r.nextInt(4);
            labels[i] = c;
            int r0 = (c / 2) * 4, c0 = (c % 2) * 4;
            for (int p = 0; p < 64; p++) {
                int y = p / 8, x = p % 8;
                boolean on = y >= r0 && y < r0 + 4 && x >= c0 && x < c0 + 4;
                float v = (on ? 0.6f : 0.2f) + (float) r.nextGaussian() * 0.25f;
                images[i * 64 + p] = Math.min(1f, Math.max(0f, v));
            }
        }
        return new Dataset("blobs", 8, 8, 4, images, labels);
    }

    static TrainConfig config(int epochs, float dropout) {
        return new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, epochs, 32, 1e-3f, dropout, 1e-5f, 1e-4f, 7, Device.Kind.CPU, 2, null, null, null, null);
    }

    @Test
    void lossFallsAndAccuracyBeatsChance() {
        Dataset train = blobs(640, 1), test = blobs(200, 2);
        TrainConfig cfg = config(4, 0f);
        for (Backend backend : new Backend[] {new CpuBackend(2), new JavaBackend()}) {
            try (backend; Mlp model = Mlp.glorotUniform(cfg.layers(), cfg.seed());
                    Trainer t = new Trainer(cfg.withDevice(backend.device()), backend, model)) {
                List<EpochMetrics> m = new ArrayList<>();
                for (int e = 0; e < cfg.epochs(); e++) {
                    m.add(t.runEpoch(train, test, ProgressListener.NONE));
                }
                assertTrue(m.get(3).trainLoss() < 0.5 * m.get(0).trainLoss(), backend.device() + ": " + m);
                assertTrue(m.get(3).testAccuracy() > 0.9, backend.device() + ": " + m);
            }
        }
    }

    @Test
    void cpuAndJavaBackendsTrainToTheSameWeights() {
        Dataset train = blobs(256, 3), test = blobs(64, 4);
        TrainConfig cfg = config(2, 0.3f);
        float[][] w = new float[2][];
        Backend[] backends = {new CpuBackend(1), new JavaBackend()};
        for (int b = 0; b < 2; b++) {
            try (Backend backend = backends[b]; Mlp model = Mlp.glorotUniform(cfg.layers(), cfg.seed());
                    Trainer t = new Trainer(cfg.withDevice(backend.device()), backend, model)) {
                t.runEpoch(train, test, ProgressListener.NONE);
                t.runEpoch(train, test, ProgressListener.NONE);
                w[b] = model.weight(1).toArray();
            }
        }
        for (int i = 0; i < w[0].length; i++) {
            assertEquals(w[1][i], w[0][i], 1e-4, "weight " + i);
        }
    }

    @Test
    void resumedRunReachesTheSameWeightsAsUninterrupted() {
        Dataset train = blobs(300, 5), test = blobs(60, 6);
        TrainConfig cfg = config(4, 0.2f);
        List<float[]> straight;
        try (Backend backend = new CpuBackend(2); Mlp model = Mlp.glorotUniform(cfg.layers(), cfg.seed());
                Trainer t = new Trainer(cfg, backend, model)) {
            for (int e = 0; e < 4; e++) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            straight = t.checkpoint().parameters();
        }
        Checkpoint half;
        try (Backend backend = new CpuBackend(2); Mlp model = Mlp.glorotUniform(cfg.layers(), cfg.seed());
                Trainer t = new Trainer(cfg, backend, model)) {
            t.runEpoch(train, test, ProgressListener.NONE);
            t.runEpoch(train, test, ProgressListener.NONE);
            half = t.checkpoint();
        }
        try (Backend backend = new CpuBackend(2); Mlp model = Mlp.glorotUniform(cfg.layers(), 999);
                Trainer t = new Trainer(cfg, backend, model)) {
            t.restore(half);
            assertEquals(2, t.epochsDone());
            t.runEpoch(train, test, ProgressListener.NONE);
            t.runEpoch(train, test, ProgressListener.NONE);
            List<float[]> resumed = t.checkpoint().parameters();
            for (int i = 0; i < straight.size(); i++) {
                assertArrayEquals(straight.get(i), resumed.get(i), "parameter tensor " + i);
            }
        }
    }

    @Test
    void divergenceIsAClearError() {
        Dataset train = blobs(128, 7), test = blobs(32, 8);
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {64, 32, 4}, 1, 32, 1e30f, 0f, 0f, 0f, 1, Device.Kind.CPU, 1, null, null, null, null);
        try (Backend backend = new CpuBackend(1); Mlp model = Mlp.glorotUniform(cfg.layers(), 1);
                Trainer t = new Trainer(cfg, backend, model)) {
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                    () -> t.runEpoch(train, test, ProgressListener.NONE));
            assertTrue(e.getMessage().contains("lower --lr"), e.getMessage());
        }
    }

    @Test
    void widthThatDoesNotFitTheDataIsAClearError() {
        Dataset train = blobs(64, 9);
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {784, 32, 4}, 1, 32, 1e-3f, 0f, 0f, 0f, 1, Device.Kind.CPU, 1, null, null, null, null);
        try (Backend backend = new CpuBackend(1); Mlp model = Mlp.glorotUniform(cfg.layers(), 1);
                Trainer t = new Trainer(cfg, backend, model)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> t.runEpoch(train, train, ProgressListener.NONE));
            assertTrue(e.getMessage().contains("first --layers width must be 64"), e.getMessage());
        }
    }

    @Test
    void configRejectsBadOptions() {
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 0, 1e-3f, 0, 0, 0, 1, Device.Kind.CPU, 1, null, null, null, null));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 128, -1f, 0, 0, 0, 1, Device.Kind.CPU, 1, null, null, null, null));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 128, Float.NaN, 0, 0, 0, 1, Device.Kind.CPU, 1, null, null, null, null));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 128, 1e-3f, 1f, 0, 0, 1, Device.Kind.CPU, 1, null, null, null, null));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, new int[] {784}, 1, 128, 1e-3f, 0, 0, 0, 1, Device.Kind.CPU, 1, null, null, null, null));
    }

    private static List<EpochMetrics> run(TrainConfig cfg, Dataset train, Dataset test) {
        List<EpochMetrics> m = new ArrayList<>();
        try (Backend backend = new CpuBackend(2); Mlp model = Trainer.initialModel(cfg); Trainer t = new Trainer(cfg, backend, model)) {
            while (t.epochsDone() < cfg.totalEpochs()) {
                m.add(t.runEpoch(train, test, ProgressListener.NONE));
            }
        }
        return m;
    }

    @Test
    void enmeshmentLossMakesClusteredLayersBlockDiagonal() {
        Dataset train = blobs(640, 11), test = blobs(200, 12);
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, 4, 16, 5e-3f, 0f, 0f, 0f, 7, Device.Kind.CPU, 2,
                new ModularOptions(20f, 2, "hidden", 1, "balanced"), null, null, null);
        List<EpochMetrics> m = run(cfg, train, test);
        assertEquals(null, m.get(0).clusterability(), "no clusters during the warm-up");
        double c = m.get(3).clusterability().get("layers.1.weight");
        assertTrue(c > 0.95, "C after 3 epochs of the loss: " + m);
        assertTrue(m.get(3).testAccuracy() > 0.8, m.toString());
    }

    @Test
    void pruningReachesTheScheduledSparsityExactly() {
        Dataset train = blobs(320, 13), test = blobs(64, 14);
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, 1, 16, 1e-3f, 0f, 0f, 0f, 7, Device.Kind.CPU, 2,
                null, PruneOptions.f21(2), null, null);
        try (Backend backend = new CpuBackend(2); Mlp model = Trainer.initialModel(cfg); Trainer t = new Trainer(cfg, backend, model)) {
            EpochMetrics first = t.runEpoch(train, test, ProgressListener.NONE);
            assertEquals("train", first.phase());
            EpochMetrics mid = t.runEpoch(train, test, ProgressListener.NONE);
            assertEquals("prune", mid.phase());
            assertTrue(mid.sparsity() > 0.5 && mid.sparsity() < 0.9, "sparsity after the first pruning epoch " + mid.sparsity());
            EpochMetrics last = t.runEpoch(train, test, ProgressListener.NONE);
            for (int l = 0; l < model.layers(); l++) {
                float[] w = model.weight(l).toArray();
                int zeros = 0;
                for (float v : w) {
                    zeros += v == 0f ? 1 : 0;
                }
                assertEquals(Math.round(0.9 * w.length), zeros, "layer " + l + " zeros");
            }
            assertEquals(0.9, last.sparsity(), 1e-3);
            assertTrue(last.testAccuracy() > 0.5, last.toString());
        }
    }

    @Test
    void pruneScheduleIsCubicFromFiftyToNinety() {
        PruneOptions p = PruneOptions.f21(3);
        assertEquals(0.5f, p.sparsity(0, 100), 1e-6);
        assertEquals(0.9f, p.sparsity(100, 100), 1e-6);
        assertEquals(0.9 - 0.4 * 0.125, p.sparsity(50, 100), 1e-6);
    }

    @Test
    void clusterableInitScalesWithinAndAcrossModules() {
        TrainConfig plain = config(1, 0f);
        TrainConfig ci = plain.withClusterableInit(ClusterableInit.f21());
        try (Mlp a = Trainer.initialModel(plain); Mlp b = Trainer.initialModel(ci)) {
            assertArrayEquals(a.weight(0).toArray(), b.weight(0).toArray(), "the first layer is left alone");
            float up = ClusterableInit.f21().up();
            assertEquals(4.6f, up, 1e-6);
            float[] wa = a.weight(1).toArray(), wb = b.weight(1).toArray();
            int ups = 0;
            for (int i = 0; i < wa.length; i++) {
                float ratio = wb[i] / wa[i];
                boolean isUp = Math.abs(ratio - up) < 1e-4;
                assertTrue(isUp || Math.abs(ratio - 0.6f) < 1e-5, "ratio " + ratio);
                ups += isUp ? 1 : 0;
            }
            assertTrue(ups > wa.length / 20 && ups < wa.length / 5, "about 1/10 within a module: " + ups + " of " + wa.length);
        }
    }

    @Test
    void resumeMidPruningWithModularClustersEqualsUninterrupted() {
        Dataset train = blobs(256, 15), test = blobs(64, 16);
        TrainConfig cfg = config(2, 0.1f).withModular(new ModularOptions(5f, 2, "all", 1, "balanced")).withPrune(PruneOptions.f21(2));
        Checkpoint straight;
        Checkpoint half;
        try (Backend backend = new CpuBackend(2); Mlp model = Trainer.initialModel(cfg); Trainer t = new Trainer(cfg, backend, model)) {
            for (int e = 0; e < 4; e++) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            straight = t.checkpoint();
        }
        try (Backend backend = new CpuBackend(2); Mlp model = Trainer.initialModel(cfg); Trainer t = new Trainer(cfg, backend, model)) {
            for (int e = 0; e < 3; e++) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            half = t.checkpoint();
        }
        assertEquals(3, half.clusters().size());
        assertEquals(3, half.pruneMasks().size());
        try (Backend backend = new CpuBackend(2); Mlp model = Trainer.initialModel(cfg); Trainer t = new Trainer(cfg, backend, model)) {
            t.restore(half);
            t.runEpoch(train, test, ProgressListener.NONE);
            Checkpoint resumed = t.checkpoint();
            for (int i = 0; i < straight.parameters().size(); i++) {
                assertArrayEquals(straight.parameters().get(i), resumed.parameters().get(i), "parameter tensor " + i);
            }
            assertEquals(straight.clusters(), resumed.clusters());
        }
    }

    @Test
    void spectralRegulariserLowersTheLaplacianEigenvalues() {
        Dataset train = blobs(640, 17), test = blobs(128, 18);
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, 3, 32, 1e-3f, 0f, 0f, 0f, 7, Device.Kind.CPU, 2,
                null, null, null, new SpectralOptions(5f, 3, SpectralOptions.Rescale.CANONICAL));
        List<EpochMetrics> m = run(cfg, train, test);
        assertTrue(m.get(2).spectral() < m.get(0).spectral(), "regulariser value should fall: " + m);
        assertTrue(m.get(2).testAccuracy() > 0.8, m.toString());
    }

    @Test
    void canonicalSpectralRunsExportTheCanonicalFormOfTheSameFunction() {
        Dataset train = blobs(256, 21), test = blobs(64, 22);
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {64, 16, 12, 4}, 1, 32, 1e-3f, 0f, 0f, 0f, 9, Device.Kind.JAVA, 1,
                null, null, null, new SpectralOptions(0.5f, 2, SpectralOptions.Rescale.CANONICAL));
        try (Backend backend = new JavaBackend(); Mlp model = Trainer.initialModel(cfg); Trainer t = new Trainer(cfg, backend, model)) {
            t.runEpoch(train, test, ProgressListener.NONE);
            try (Mlp exported = t.exportModel(); dev.cleave.nn.MlpPass a = new dev.cleave.nn.MlpPass(backend, model, 8);
                    dev.cleave.nn.MlpPass b = new dev.cleave.nn.MlpPass(backend, exported, 8)) {
                for (int h = 0; h + 1 < exported.layers(); h++) {
                    float[] w = exported.weight(h).toArray();
                    float[] bias = exported.bias(h).toArray();
                    int in = exported.weight(h).cols();
                    for (int i = 0; i < bias.length; i++) {
                        double norm = (double) bias[i] * bias[i];
                        for (int j = 0; j < in; j++) {
                            norm += (double) w[i * in + j] * w[i * in + j];
                        }
                        assertEquals(2.0, norm, 1e-4, "incoming norm^2 of unit " + i + " in hidden layer " + h);
                    }
                }
                Random r = new Random(4);
                for (int i = 0; i < a.input().size(); i++) {
                    float x = r.nextFloat();
                    a.input().buffer().put(i, x);
                    b.input().buffer().put(i, x);
                }
                float[] ya = a.forward(8, 0f, 0, 0).toArray();
                float[] yb = b.forward(8, 0f, 0, 0).toArray();
                for (int i = 0; i < ya.length; i++) {
                    assertEquals(ya[i], yb[i], 1e-4 * Math.max(1, Math.abs(ya[i])), "logit " + i);
                }
            }
        }
    }
}
