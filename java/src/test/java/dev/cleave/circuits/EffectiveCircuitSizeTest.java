package dev.cleave.circuits;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.io.Json;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.train.Evaluation;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EffectiveCircuitSizeTest {
    private static final EffectiveCircuitSize.Options FAST = EffectiveCircuitSize.Options.defaults();
    private static final EffectiveCircuitSize.Options NAIVE =
            new EffectiveCircuitSize.Options(null, 0, null, EffectiveCircuitSize.Options.NAIVE, 1);

    /**
     * 2-2-2 network, one image x = (1, 1) of label 0. Hidden h0 = relu(x0 + 0.5 x1) = 1.5,
     * h1 = relu(x0 - 2 x1) = 0; logits z = (2 h0 + h1, h0 + 0 h1) = (3, 1.5); baseline loss
     * CE = log(1 + e^-1.5) = 0.2014. By hand, last layer first, row-major:
     * W1[0][0] = 2: z = (0, 1.5), CE 1.70 > 0.2014, kept. W1[0][1]: h1 = 0, no change, pruned.
     * W1[1][0]: z = (3, 0), CE 0.0486, pruned. W1[1][1] is already 0: pruned.
     * W0[0][0]: h0 = 0.5, z = (1, 0), CE 0.313, kept. W0[0][1]: h0 = 1, z = (2, 0), CE 0.127 <=
     * 0.2014 (the fixed baseline, not the current 0.0486), pruned. W0[1][*]: h1 stays 0, pruned.
     * Kept: W0[0][0] and W1[0][0], 2 of 8 weights: ECS = 0.25.
     */
    static Mlp handBuilt() {
        return Mlp.fromMatrices(List.of(new FloatMatrix(2, 2, new float[] {1, 0.5f, 1, -2}),
                new FloatMatrix(2, 2, new float[] {2, 1, 1, 0})), List.of(new float[2], new float[2]));
    }

    @Test
    void handBuiltNetworkHasTheCircuitComputedByHand() {
        Dataset one = new Dataset("one", 1, 2, 2, new float[] {1, 1}, new int[] {0});
        for (EffectiveCircuitSize.Options options : List.of(FAST, NAIVE)) {
            try (Mlp model = handBuilt()) {
                List<FloatMatrix> before = model.weightMatrices();
                EcsResult r = EffectiveCircuitSize.run(model, one, new EffectiveCircuitSize.Options(new int[] {0}, 0, null,
                        options.method(), 1), ProgressListener.NONE);
                LabelCircuit c = r.circuits().get(0);
                assertEquals(0.25, c.ecs(), 0, options.method());
                assertEquals(2, c.kept());
                assertArrayEquals(new long[] {1, 1}, c.keptPerLayer());
                assertEquals(bits(0, 4), c.keptMask(), "kept W0[0][0] (bit 0) and W1[0][0] (bit 4)");
                assertEquals(Math.log1p(Math.exp(-1.5)), c.baselineLoss(), 1e-9);
                assertEquals(Math.log1p(Math.exp(-2)), c.finalLoss(), 1e-9);
                assertEquals(8, r.weights());
                assertNull(r.approximation());
                assertEquals(before, model.weightMatrices(), "the caller's model must not change");
            }
        }
    }

    /** A random MLP with some zero weights and some dead units, and images with zero pixels. */
    static Mlp randomModel(int[] widths, Random r) {
        List<FloatMatrix> ws = new ArrayList<>();
        List<float[]> bs = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            float[] w = new float[widths[l + 1] * widths[l]];
            for (int i = 0; i < w.length; i++) {
                w[i] = r.nextInt(8) == 0 ? 0f : (float) (r.nextGaussian() / Math.sqrt(widths[l]) * 1.5);
            }
            float[] b = new float[widths[l + 1]];
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (r.nextGaussian() * 0.3);
            }
            ws.add(new FloatMatrix(widths[l + 1], widths[l], w));
            bs.add(b);
        }
        return Mlp.fromMatrices(ws, bs);
    }

    static Dataset randomImages(int features, int classes, int count, Random r) {
        float[] images = new float[features * count];
        for (int i = 0; i < images.length; i++) {
            images[i] = r.nextInt(3) == 0 ? 0f : r.nextFloat();
        }
        int[] labels = IntStream.range(0, count).map(n -> n % classes).toArray();
        return new Dataset("random", 1, features, classes, images, labels);
    }

    /**
     * The same images, each labelled with the model's own prediction (like a trained model's
     * test set, where most labels are right), so that pruning often hurts.
     */
    static Dataset labelledByModel(Mlp model, Dataset data) {
        List<FloatMatrix> ws = model.weightMatrices();
        List<float[]> bs = model.biasVectors();
        int[] labels = new int[data.count()];
        for (int n = 0; n < data.count(); n++) {
            double[] h = new double[data.features()];
            for (int j = 0; j < h.length; j++) {
                h[j] = data.images()[n * h.length + j];
            }
            for (int l = 0; l < ws.size(); l++) {
                FloatMatrix w = ws.get(l);
                double[] next = new double[w.rows()];
                for (int i = 0; i < w.rows(); i++) {
                    double z = bs.get(l)[i];
                    for (int j = 0; j < w.cols(); j++) {
                        z += w.get(i, j) * h[j];
                    }
                    next[i] = l + 1 < ws.size() ? Math.max(0, z) : z;
                }
                h = next;
            }
            int best = 0;
            for (int c = 1; c < h.length; c++) {
                best = h[c] > h[best] ? c : best;
            }
            labels[n] = best;
        }
        return new Dataset(data.name(), data.rows(), data.cols(), data.classes(), data.images(), labels);
    }

    /** The classes that have images in {@code data}. */
    static int[] presentLabels(Dataset data) {
        int[] counts = data.classCounts();
        return IntStream.range(0, counts.length).filter(c -> counts[c] > 0).toArray();
    }

    @Test
    void fastPathKeepsExactlyTheWeightsTheNaivePathKeeps() {
        int[][] shapes = {{6, 3}, {6, 5, 3}, {7, 6, 5, 4}, {5, 4, 4, 4, 3}, {10, 8, 8, 8, 4}, {16, 12, 12, 12, 6}};
        int seed = 0;
        long kept = 0, weights = 0;
        for (int[] widths : shapes) {
            for (int repeat = 0; repeat < 3; repeat++, seed++) {
                Random r = new Random(seed);
                int classes = widths[widths.length - 1];
                try (Mlp model = randomModel(widths, r)) {
                    Dataset data = labelledByModel(model, randomImages(widths[0], classes, 8 * classes, r));
                    int[] labels = presentLabels(data);
                    EcsResult fast = EffectiveCircuitSize.run(model, data, new EffectiveCircuitSize.Options(labels, 0, null,
                            EffectiveCircuitSize.Options.FAST, 2), ProgressListener.NONE);
                    EcsResult naive = EffectiveCircuitSize.run(model, data, new EffectiveCircuitSize.Options(labels, 0, null,
                            EffectiveCircuitSize.Options.NAIVE, 1), ProgressListener.NONE);
                    String what = "seed " + seed + " widths " + java.util.Arrays.toString(widths);
                    for (int y = 0; y < labels.length; y++) {
                        LabelCircuit f = fast.circuits().get(y), n = naive.circuits().get(y);
                        assertEquals(n.keptMask(), f.keptMask(), what + " label " + y);
                        assertEquals(n.baselineLoss(), f.baselineLoss(), 0, what);
                        assertEquals(n.finalLoss(), f.finalLoss(), 0, what);
                        assertTrue(f.finalLoss() <= f.baselineLoss(), what);
                        kept += f.kept();
                        weights += fast.weights();
                    }
                    assertArrayEquals(naive.circuitOverlap(), fast.circuitOverlap(), what);
                }
            }
        }
        // Not vacuous: the searches kept some weights and pruned others.
        assertTrue(kept > 0.02 * weights && kept < 0.8 * weights, kept + " of " + weights + " weights kept");
    }

    @Test
    void circuitArithmeticLossIsTheFloatForwardLoss() {
        Random r = new Random(5);
        try (Mlp model = randomModel(new int[] {12, 10, 10, 3}, r); CpuBackend backend = new CpuBackend(1)) {
            Dataset data = randomImages(12, 3, 30, r);
            EcsResult result = EffectiveCircuitSize.run(model, data, FAST, ProgressListener.NONE);
            for (int y = 0; y < 3; y++) {
                int label = y;
                Dataset only = data.subset(IntStream.range(0, data.count()).filter(n -> data.labels()[n] == label).toArray());
                double expected = Evaluation.of(model, only, backend).loss();
                assertEquals(expected, result.circuits().get(y).baselineLoss(), 1e-5 * expected, "label " + y);
            }
        }
    }

    @Test
    void approximationsSaySo() {
        Random r = new Random(7);
        try (Mlp model = randomModel(new int[] {6, 5, 5, 3}, r)) {
            Dataset data = randomImages(6, 3, 30, r);
            EcsResult fewer = EffectiveCircuitSize.run(model, data,
                    new EffectiveCircuitSize.Options(new int[] {2, 0}, 4, new int[] {2, 1}, "fast", 1), ProgressListener.NONE);
            assertEquals("first 4 images per label; layers 1, 2 only", fewer.approximation());
            assertArrayEquals(new int[] {1, 2}, fewer.layers());
            assertEquals(25 + 15, fewer.weights());
            assertEquals(2, fewer.circuits().get(0).label());
            assertEquals(4, fewer.circuits().get(0).images());
            assertEquals(2, fewer.circuits().get(0).keptPerLayer().length);
            // Asking for more images than a label has is not an approximation.
            EcsResult all = EffectiveCircuitSize.run(model, data, new EffectiveCircuitSize.Options(null, 500, null, "fast", 1),
                    ProgressListener.NONE);
            assertNull(all.approximation());
            assertEquals(10, all.circuits().get(1).images());
        }
    }

    @Test
    void overlapIsOneOnTheDiagonalAndSymmetric() {
        Random r = new Random(11);
        try (Mlp model = randomModel(new int[] {8, 6, 6, 4}, r)) {
            EcsResult result = EffectiveCircuitSize.run(model, randomImages(8, 4, 24, r), FAST, ProgressListener.NONE);
            double[][] o = result.circuitOverlap();
            for (int a = 0; a < 4; a++) {
                assertEquals(1.0, o[a][a]);
                for (int b = 0; b < 4; b++) {
                    assertEquals(o[a][b], o[b][a]);
                    assertEquals(Jaccard.of(result.circuits().get(a).keptMask(), result.circuits().get(b).keptMask()), o[a][b]);
                }
            }
        }
        assertEquals(1.0 / 3, Jaccard.of(bits(1, 2), bits(2, 3)), 1e-15);
        assertEquals(0.0, Jaccard.of(bits(1), bits(2)));
        assertTrue(Double.isNaN(Jaccard.of(bits(), bits())));
    }

    @Test
    void resultRoundTripsThroughJson() {
        try (Mlp model = handBuilt()) {
            Dataset two = new Dataset("two", 1, 2, 2, new float[] {1, 1, 0.5f, 0}, new int[] {0, 1});
            EcsResult r = EffectiveCircuitSize.run(model, two, FAST, ProgressListener.NONE);
            String json = Json.write(r);
            EcsResult back = Json.read(json, EcsResult.class);
            assertEquals(json, Json.write(back));
            assertEquals(r.circuits().get(0).keptMask(), back.circuits().get(0).keptMask());
            assertTrue(json.contains("\"images_per_label\":0") && json.contains("\"circuit_overlap\""), json);
        }
    }

    @Test
    void aListenerCancelsTheSearch() {
        Random r = new Random(3);
        try (Mlp model = randomModel(new int[] {6, 5, 5, 3}, r)) {
            Dataset data = randomImages(6, 3, 30, r);
            ProgressListener cancel = (task, done, total) -> {
                throw new ProgressListener.CancelledException("stop");
            };
            assertThrows(ProgressListener.CancelledException.class, () -> EffectiveCircuitSize.run(model, data,
                    new EffectiveCircuitSize.Options(null, 0, null, "fast", 2), cancel));
        }
    }

    @Test
    void badOptionsFailWithClearMessages() {
        try (Mlp model = handBuilt()) {
            Dataset onlyZeros = new Dataset("zeros", 1, 2, 2, new float[] {1, 1}, new int[] {0});
            assertInvalid(() -> new EffectiveCircuitSize.Options(new int[0], 0, null, "fast", 1), "labels", "empty");
            assertInvalid(() -> new EffectiveCircuitSize.Options(null, 0, new int[0], "fast", 1), "layers", "empty");
            assertInvalid(() -> new EffectiveCircuitSize.Options(new int[] {1, 1}, 0, null, "fast", 1), "label 1", "twice");
            assertInvalid(() -> new EffectiveCircuitSize.Options(null, -1, null, "fast", 1), "images per label", "-1");
            assertInvalid(() -> new EffectiveCircuitSize.Options(null, 0, null, "slow", 1), "fast or naive", "slow");
            assertInvalid(() -> new EffectiveCircuitSize.Options(null, 0, null, "fast", 0), "threads");
            assertInvalid(() -> EffectiveCircuitSize.run(model, onlyZeros,
                    new EffectiveCircuitSize.Options(new int[] {5}, 0, null, "fast", 1), ProgressListener.NONE),
                    "label 5", "classes 0..1");
            assertInvalid(() -> EffectiveCircuitSize.run(model, onlyZeros, FAST, ProgressListener.NONE),
                    "label 1 has no images", "zeros");
            assertInvalid(() -> EffectiveCircuitSize.run(model, onlyZeros,
                    new EffectiveCircuitSize.Options(new int[] {0}, 0, new int[] {2}, "fast", 1), ProgressListener.NONE),
                    "layer 2", "layers 0..1");
            Dataset wide = new Dataset("wide", 1, 3, 2, new float[] {1, 1, 1}, new int[] {0});
            assertInvalid(() -> EffectiveCircuitSize.run(model, wide, FAST, ProgressListener.NONE), "input width is 2");
        }
    }

    private static BitSet bits(int... indices) {
        BitSet b = new BitSet();
        for (int i : indices) {
            b.set(i);
        }
        return b;
    }
}
