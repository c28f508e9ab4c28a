package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CpuBackend;
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
        return new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, epochs, 32, 1e-3f, dropout, 1e-5f, 1e-4f, 7, "cpu", 2);
    }

    @Test
    void lossFallsAndAccuracyBeatsChance() {
        Dataset train = blobs(640, 1), test = blobs(200, 2);
        TrainConfig cfg = config(4, 0f);
        for (Backend backend : new Backend[] {new CpuBackend(2), new JavaBackend()}) {
            try (backend; Mlp model = Mlp.glorotUniform(cfg.layers(), cfg.seed()); Trainer t = new Trainer(cfg, backend, model)) {
                List<EpochMetrics> m = new ArrayList<>();
                for (int e = 0; e < cfg.epochs(); e++) {
                    m.add(t.runEpoch(train, test, ProgressListener.NONE));
                }
                assertTrue(m.get(3).trainLoss() < 0.5 * m.get(0).trainLoss(), backend.name() + ": " + m);
                assertTrue(m.get(3).testAccuracy() > 0.9, backend.name() + ": " + m);
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
                    Trainer t = new Trainer(cfg, backend, model)) {
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
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {64, 32, 4}, 1, 32, 1e30f, 0f, 0f, 0f, 1, "cpu", 1);
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
        TrainConfig cfg = new TrainConfig("blobs", null, new int[] {784, 32, 4}, 1, 32, 1e-3f, 0f, 0f, 0f, 1, "cpu", 1);
        try (Backend backend = new CpuBackend(1); Mlp model = Mlp.glorotUniform(cfg.layers(), 1);
                Trainer t = new Trainer(cfg, backend, model)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> t.runEpoch(train, train, ProgressListener.NONE));
            assertTrue(e.getMessage().contains("first --layers width must be 64"), e.getMessage());
        }
    }

    @Test
    void configRejectsBadOptions() {
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 0, 1e-3f, 0, 0, 0, 1, "cpu", 1));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 128, -1f, 0, 0, 0, 1, "cpu", 1));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 128, Float.NaN, 0, 0, 0, 1, "cpu", 1));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, null, 1, 128, 1e-3f, 1f, 0, 0, 1, "cpu", 1));
        assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null, new int[] {784}, 1, 128, 1e-3f, 0, 0, 0, 1, "cpu", 1));
    }
}
