package dev.cleave.circuits;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.nn.Shape;
import dev.cleave.train.Evaluation;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.ProgressListener;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Circuits of a tiny CNN: conv-cluster ablation, the dense-layer ECS, the channel ECS, backends. */
class NetworkCircuitsTest {
    /** conv 4 channels (3x3 same) on 1x6x6, relu, maxpool to 4x3x3 = 36 features, dense 36-8-8-3. */
    static final String ARCH = "conv:4,relu,maxpool,flatten,linear:8,relu,linear:8,relu,linear:3";
    static final Shape INPUT = Shape.parse("1x6x6");

    /**
     * Dyadic values so the conv stack is exact in float whatever the summation order: pixels
     * a/16, conv weights b/64 with |b| <= 4 (every feature in [0, 9/16]), conv biases b/64; dense
     * weights and biases seeded uniform.
     */
    static Network network(long seed) {
        Arch arch = Arch.parse(ARCH, INPUT);
        Random r = new Random(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Network.Named n : Network.specs(arch)) {
            float[] v = new float[n.spec().rows() * n.spec().cols()];
            boolean conv = n.layer() == 0;
            for (int i = 0; i < v.length; i++) {
                v[i] = conv ? (r.nextInt(9) - 4) / 64f : (float) (r.nextGaussian() * 0.5);
            }
            values.put(n.name(), v);
        }
        return Network.fromValues(arch, values);
    }

    /** n images whose label (0..2) is the brightest third of the rows, plus noise, pixels a/16. */
    static Dataset data(int n, long seed) {
        Random r = new Random(seed);
        float[] px = new float[n * 36];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(3);
            for (int p = 0; p < 36; p++) {
                int band = (p / 6) / 2;
                px[i * 36 + p] = Math.min(16, (band == labels[i] ? 8 : 0) + r.nextInt(9)) / 16f;
            }
        }
        return new Dataset("tiny", 6, 6, 3, px, labels);
    }

    @Test
    void ablatingAConvClusterEqualsZeroingItsChannelsByHand() {
        Dataset test = data(120, 3);
        LayerClusters conv = new LayerClusters(0, 2, new int[] {0, 1, 0, 1}, new int[] {0});
        try (Network net = network(1); Backend cpu = Device.cpu(1).open()) {
            float[] before = net.tensors().get(0).tensor().toArray();
            AblationResult a = ClusterAblation.run(net, List.of(conv), test, cpu, ClusterAblation.Options.defaults(),
                    ProgressListener.NONE);
            assertArrayEquals(before, net.tensors().get(0).tensor().toArray(), "the caller's network is not modified");
            for (int c = 0; c < 2; c++) {
                int[] off = c == 0 ? new int[] {0, 2} : new int[] {1, 3};
                int[] on = c == 0 ? new int[] {1, 3} : new int[] {0, 2};
                assertArrayEquals(handZeroed(net, off, test, cpu), a.offAccuracy()[c], 0, "OFF(" + c + ")");
                assertArrayEquals(handZeroed(net, on, test, cpu), a.onAccuracy()[c], 0, "ON(" + c + ")");
            }
            assertArrayEquals(Evaluation.of(net, test, cpu).perClassAccuracy(), a.intactAccuracy(), 0);
            assertArrayEquals(new int[] {0}, a.layers());
        }
    }

    /** Per-label accuracy of a copy with channels {@code channels} zeroed by hand: kernel rows and biases. */
    private static double[] handZeroed(Network net, int[] channels, Dataset test, Backend ops) {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Network.Named n : net.tensors()) {
            values.put(n.name(), n.tensor().toArray());
        }
        float[] w = values.get("layers.0.weight");
        float[] b = values.get("layers.0.bias");
        for (int ch : channels) {
            for (int t = 0; t < 9; t++) {
                w[ch * 9 + t] = 0;
            }
            b[ch] = 0;
        }
        try (Network copy = Network.fromValues(net.arch(), values)) {
            return Evaluation.of(copy, test, ops).perClassAccuracy();
        }
    }

    @Test
    void anAblatedChannelIsZeroAfterItsBatchnorm() {
        Arch arch = Arch.parse("conv:3,bn,relu,flatten,linear:3", INPUT);
        Map<String, float[]> values = new LinkedHashMap<>();
        Random r = new Random(9);
        for (Network.Named n : Network.specs(arch)) {
            float[] v = new float[n.spec().rows() * n.spec().cols()];
            for (int i = 0; i < v.length; i++) {
                v[i] = n.name().endsWith("running_var") ? 0.5f + r.nextFloat() : (float) r.nextGaussian();
            }
            values.put(n.name(), v);
        }
        Dataset test = data(10, 4);
        try (Network net = Network.fromValues(arch, values);
                Network off = ClusterAblation.ablated(net, List.of(new LayerClusters(0, 2, new int[] {1, 0, 1}, new int[] {0})),
                        c -> c == 1);
                Network stack = NetworkCircuits.featureStack(off); Backend java = Device.java().open()) {
            float[] f = NetworkCircuits.features(stack, test.images(), test.count(), java);
            boolean someNonZero = false;
            for (int n = 0; n < test.count(); n++) {
                for (int j = 0; j < 3 * 36; j++) {
                    int ch = j / 36;
                    float v = f[n * 108 + j];
                    if (ch != 1) {
                        assertEquals(0f, v, 0, "channel " + ch + " is switched off");
                    } else {
                        someNonZero |= v != 0;
                    }
                }
            }
            assertTrue(someNonZero, "channel 1 stays on");
        }
    }

    @Test
    void denseEcsOfACnnIsTheMlpSearchOnItsConvFeatures() {
        Dataset test = data(60, 5);
        try (Network net = network(2); Backend java = Device.java().open()) {
            // the features by hand: conv 3x3 same, relu, maxpool 2x2, flatten (CHW)
            float[] w = net.tensors().get(0).tensor().toArray();
            float[] b = net.tensors().get(1).tensor().toArray();
            float[] features = new float[test.count() * 36];
            for (int n = 0; n < test.count(); n++) {
                for (int c = 0; c < 4; c++) {
                    for (int y = 0; y < 3; y++) {
                        for (int x = 0; x < 3; x++) {
                            float best = 0;
                            for (int dy = 0; dy < 2; dy++) {
                                for (int dx = 0; dx < 2; dx++) {
                                    int oy = 2 * y + dy, ox = 2 * x + dx;
                                    float s = b[c];
                                    for (int ky = 0; ky < 3; ky++) {
                                        for (int kx = 0; kx < 3; kx++) {
                                            int iy = oy + ky - 1, ix = ox + kx - 1;
                                            if (iy >= 0 && iy < 6 && ix >= 0 && ix < 6) {
                                                s += w[c * 9 + ky * 3 + kx] * test.images()[n * 36 + iy * 6 + ix];
                                            }
                                        }
                                    }
                                    best = Math.max(best, s);
                                }
                            }
                            features[n * 36 + c * 9 + y * 3 + x] = best;
                        }
                    }
                }
            }
            Dataset asImages = new Dataset("tiny", 1, 36, 3, features, test.labels());
            EcsResult cnn = NetworkCircuits.denseEcs(net, test, EffectiveCircuitSize.Options.defaults(), ProgressListener.NONE);
            EcsResult mlp;
            try (Mlp tail = Mlp.fromMatrices(List.of(matrix(net, 4, 8, 36), matrix(net, 6, 8, 8), matrix(net, 8, 3, 8)),
                    List.of(vector(net, 4), vector(net, 6), vector(net, 8)))) {
                mlp = EffectiveCircuitSize.run(tail, asImages, EffectiveCircuitSize.Options.defaults(), ProgressListener.NONE);
            }
            assertArrayEquals(new int[] {4, 6, 8}, cnn.layers(), "sequence indices of the linear layers");
            assertEquals(NetworkCircuits.WEIGHTS, cnn.unit());
            assertEquals(mlp.weights(), cnn.weights());
            assertEquals(mlp.scaleBits(), cnn.scaleBits());
            for (int y = 0; y < 3; y++) {
                LabelCircuit a = cnn.circuits().get(y), e = mlp.circuits().get(y);
                assertEquals(e.keptMask(), a.keptMask(), "label " + y);
                assertEquals(e.ecs(), a.ecs(), 0);
                assertEquals(e.finalLoss(), a.finalLoss(), 0);
                assertTrue(a.ecs() > 0 && a.ecs() < 1, "a non-trivial circuit: " + a.ecs());
            }
            EcsResult sub = NetworkCircuits.denseEcs(net, test, new EffectiveCircuitSize.Options(null, 5, new int[] {6, 8},
                    EffectiveCircuitSize.Options.FAST, 1), ProgressListener.NONE);
            assertEquals("first 5 images per label; layers 6, 8 only", sub.approximation());
            assertInvalid(() -> NetworkCircuits.denseEcs(net, test, new EffectiveCircuitSize.Options(null, 0, new int[] {0},
                    EffectiveCircuitSize.Options.FAST, 1), ProgressListener.NONE), "layer 0 is not a linear layer");
        }
    }

    private static FloatMatrix matrix(Network net, int layer, int rows, int cols) {
        return new FloatMatrix(rows, cols, ClusterAblation.tensor(net, layer, "weight").toArray());
    }

    private static float[] vector(Network net, int layer) {
        return ClusterAblation.tensor(net, layer, "bias").toArray();
    }

    @Test
    void channelEcsKeepsNoMoreThanItNeedsAndCountsZeroChannelsAsPruned() {
        Dataset test = data(60, 6);
        Map<String, float[]> values = new LinkedHashMap<>();
        try (Network net = network(3)) {
            for (Network.Named n : net.tensors()) {
                values.put(n.name(), n.tensor().toArray());
            }
        }
        Arrays.fill(values.get("layers.0.weight"), 2 * 9, 3 * 9, 0f); // channel 2 already pruned
        try (Network net = Network.fromValues(Arch.parse(ARCH, INPUT), values); Backend java = Device.java().open()) {
            EcsResult r = NetworkCircuits.channelEcs(net, test, EffectiveCircuitSize.Options.defaults(), ProgressListener.NONE);
            assertEquals(NetworkCircuits.CHANNELS, r.unit());
            assertEquals(4, r.weights());
            assertArrayEquals(new int[] {0}, r.layers());
            for (LabelCircuit c : r.circuits()) {
                assertFalse(c.keptMask().get(2), "an all-zero channel counts as pruned");
                assertEquals(c.kept(), c.keptMask().cardinality());
                assertEquals(c.kept() / 4.0, c.ecs(), 0);
                assertTrue(c.finalLoss() <= c.baselineLoss());
                // the circuit's loss, recomputed in float from a network with the pruned channels zeroed
                float[] w = values.get("layers.0.weight").clone();
                for (int ch = 0; ch < 4; ch++) {
                    if (!c.keptMask().get(ch)) {
                        Arrays.fill(w, ch * 9, (ch + 1) * 9, 0f);
                    }
                }
                Map<String, float[]> pruned = new LinkedHashMap<>(values);
                pruned.put("layers.0.weight", w);
                int label = c.label();
                int[] idx = IntStream.range(0, test.count()).filter(n -> test.labels()[n] == label).toArray();
                try (Network p = Network.fromValues(net.arch(), pruned)) {
                    assertEquals(c.finalLoss(), Evaluation.of(p, test.subset(idx), java).loss(), 1e-5, "label " + label);
                }
            }
            assertInvalid(() -> NetworkCircuits.channelEcs(net, test, new EffectiveCircuitSize.Options(null, 0, new int[] {4},
                    EffectiveCircuitSize.Options.FAST, 1), ProgressListener.NONE), "layer 4 is not a conv layer");
        }
    }

    @Test
    void backendsAgreeOnTheAblation() {
        Dataset test = data(90, 7);
        List<LayerClusters> clusters = List.of(new LayerClusters(0, 2, new int[] {0, 0, 1, 1}, new int[] {0}),
                new LayerClusters(6, 2, new int[] {0, 1, 0, 1, 0, 1, 0, 1}, new int[] {1, 1, 0, 0, 1, 1, 0, 0}));
        try (Network net = network(4)) {
            AblationResult ref;
            try (Backend java = Device.java().open()) {
                ref = ClusterAblation.run(net, clusters, test, java, ClusterAblation.Options.defaults(), ProgressListener.NONE);
            }
            for (Device d : List.of(Device.cpu(2), Device.cudaEmu())) {
                try (Backend ops = d.open()) {
                    AblationResult a = ClusterAblation.run(net, clusters, test, ops, ClusterAblation.Options.defaults(),
                            ProgressListener.NONE);
                    for (int c = 0; c < 2; c++) {
                        assertArrayEquals(ref.offAccuracy()[c], a.offAccuracy()[c], 1.0 / 25, d + " OFF(" + c + ")");
                        assertArrayEquals(ref.onAccuracy()[c], a.onAccuracy()[c], 1.0 / 25, d + " ON(" + c + ")");
                    }
                }
            }
        }
    }

    @Test
    void badClustersAndTailsAreOneLineErrors() {
        Dataset test = data(10, 8);
        try (Network net = network(5); Backend java = Device.java().open()) {
            assertInvalid(() -> ClusterAblation.run(net, List.of(new LayerClusters(1, 2, new int[] {0, 1}, new int[] {0, 1})), test,
                    java, ClusterAblation.Options.defaults(), ProgressListener.NONE), "neither a linear nor a conv layer");
            assertInvalid(() -> ClusterAblation.run(net, List.of(new LayerClusters(0, 2, new int[] {0, 1}, new int[] {0})), test,
                    java, ClusterAblation.Options.defaults(), ProgressListener.NONE), "the conv has 4 output x 1 input channels");
        }
        assertEquals(4, NetworkCircuits.layerIndex(Arch.parse(ARCH, INPUT), "fc1"));
        assertEquals(0, NetworkCircuits.layerIndex(Arch.parse(ARCH, INPUT), "conv1"));
        assertEquals(6, NetworkCircuits.layerIndex(Arch.parse(ARCH, INPUT), "layers.6.weight"));
        assertInvalid(() -> NetworkCircuits.layerIndex(Arch.parse(ARCH, INPUT), "fc4"), "fc1 = 4, fc2 = 6, fc3 = 8, conv1 = 0");
        assertInvalid(() -> NetworkCircuits.tailStart(Arch.parse("conv:2,flatten,linear:4,linear:3", INPUT)),
                "without a relu");
    }
}
