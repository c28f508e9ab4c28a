package dev.cleave.io;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Safetensors.DType;
import dev.cleave.io.Safetensors.Tensor;
import dev.cleave.nn.Mlp;
import dev.cleave.train.ModelFile;
import dev.cleave.util.FloatMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PyTorch state_dicts as safetensors, written here the way PyTorch names and stores them. */
class StateDictTest {
    @TempDir
    Path dir;

    private static final int[] WIDTHS = {6, 5, 4, 3};

    /** Random weights and biases for {@link #WIDTHS}, exactly representable in F16 and BF16 (8 significant bits). */
    private static List<float[]> params(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<float[]> out = new ArrayList<>();
        for (int l = 0; l + 1 < WIDTHS.length; l++) {
            for (int n : new int[] {WIDTHS[l + 1] * WIDTHS[l], WIDTHS[l + 1]}) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = (r.nextInt(255) - 127) / 64f;
                }
                out.add(v);
            }
        }
        return out;
    }

    private static Tensor tensor(DType dtype, long[] shape, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            switch (dtype) {
                case F32 -> b.putFloat(x);
                case F64 -> b.putDouble(x);
                case BF16 -> b.putShort((short) (Float.floatToIntBits(x) >>> 16));
                case F16 -> b.putShort(toHalf(x));
                default -> throw new IllegalArgumentException();
            }
        }
        return Tensor.of(dtype, shape, b.array());
    }

    /** float to binary16 for values with at most 11 significant bits in the normal range. */
    private static short toHalf(float x) {
        int bits = Float.floatToIntBits(x);
        int sign = (bits >>> 16) & 0x8000;
        if ((bits & 0x7FFFFFFF) == 0) {
            return (short) sign;
        }
        int exp = ((bits >>> 23) & 0xFF) - 127 + 15;
        return (short) (sign | (exp << 10) | ((bits >>> 13) & 0x3FF));
    }

    /** Writes a state_dict with module names {@code names[l]} (null bias names: no bias). */
    private Path write(String file, String[] names, DType dtype, boolean biases, List<float[]> p) throws IOException {
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < names.length; l++) {
            t.put(names[l] + ".weight", tensor(dtype, new long[] {WIDTHS[l + 1], WIDTHS[l]}, p.get(2 * l)));
            if (biases) {
                t.put(names[l] + ".bias", tensor(dtype, new long[] {WIDTHS[l + 1]}, p.get(2 * l + 1)));
            }
        }
        Path f = dir.resolve(file);
        Safetensors.write(f, t, Map.of());
        return f;
    }

    private static void assertSameNetwork(List<float[]> p, Mlp m, boolean biases) {
        for (int l = 0; l < m.layers(); l++) {
            assertArrayEquals(p.get(2 * l), m.weight(l).toArray(), "weight " + l);
            assertArrayEquals(biases ? p.get(2 * l + 1) : new float[WIDTHS[l + 1]], m.bias(l).toArray(), "bias " + l);
        }
    }

    @Test
    void sequentialNamedAndNestedModulesLoadAsTheSameMlpInEveryDtype() throws IOException {
        List<float[]> p = params(3);
        String[][] namings = {{"0", "2", "4"}, {"fc1", "fc2", "fc3"}, {"net.fc1", "net.fc2", "net.fc3"},
                {"model.layers.0", "model.layers.1", "model.layers.2"}};
        for (String[] names : namings) {
            for (DType dtype : new DType[] {DType.F32, DType.F16, DType.BF16, DType.F64}) {
                Path f = write("m-" + names[0] + "-" + dtype + ".safetensors", names, dtype, true, p);
                try (ModelFile.Loaded l = ModelFile.load(f)) {
                    assertSameNetwork(p, l.model(), true);
                    assertEquals("layers: " + names[0] + ".weight 5x6, " + names[1] + ".weight 4x5, " + names[2]
                            + ".weight 3x4", l.layers());
                    assertTrue(l.assumption().contains("ReLU after every linear layer but the last"), l.assumption());
                }
            }
        }
    }

    @Test
    void biasFreeLayersReadAsZeroBiasesAndSaySo() throws IOException {
        List<float[]> p = params(4);
        Path f = write("nobias.safetensors", new String[] {"fc1", "fc2", "fc3"}, DType.F32, false, p);
        try (ModelFile.Loaded l = ModelFile.load(f)) {
            assertSameNetwork(p, l.model(), false);
            assertTrue(l.assumption().contains("3 layer(s) without a bias read as bias 0"), l.assumption());
        }
    }

    @Test
    void numericPartsOfModuleNamesCompareAsNumbers() throws IOException {
        // Sequential indices 2 and 10 (string order would put 10 first) and fc9 before fc10.
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        t.put("10.weight", Tensor.of(FloatMatrix.zeros(2, 4)));
        t.put("2.weight", Tensor.of(FloatMatrix.zeros(4, 3)));
        Path f = dir.resolve("n.safetensors");
        Safetensors.write(f, t, Map.of());
        List<StateDict.Layer> layers = StateDict.layers(Safetensors.read(f), List.of());
        assertEquals("2", layers.get(0).module());
        assertEquals("10", layers.get(1).module());
        assertTrue(StateDict.NATURAL.compare("fc9", "fc10") < 0);
        assertTrue(StateDict.NATURAL.compare("net.fc2.x", "net.fc10") < 0);
        assertTrue(StateDict.NATURAL.compare("a", "a.b") < 0);
        assertEquals(0, StateDict.NATURAL.compare("fc007", "fc7"), "leading zeros compare by value");
    }

    @Test
    void aBrokenChainListsTheCandidatesAndTheOptionThatFixesIt() throws IOException {
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        t.put("encoder.weight", Tensor.of(FloatMatrix.zeros(5, 6)));
        t.put("decoder.weight", Tensor.of(FloatMatrix.zeros(6, 5)));
        t.put("head.weight", Tensor.of(FloatMatrix.zeros(3, 5)));
        Path f = dir.resolve("broken.safetensors");
        Safetensors.write(f, t, Map.of());
        // Found from the names (decoder, encoder, head) the three chain: 5x6 after 6x5, 3x5 after 5x6. An order that
        // cannot chain is refused.
        assertInvalid(() -> StateDict.layers(Safetensors.read(f), List.of("encoder", "head", "decoder")),
                "do not chain", "decoder.weight 6x5 reads 5 inputs but head.weight 3x5 gives 3", "check the order of --layers");
        t.put("extra.weight", Tensor.of(FloatMatrix.zeros(7, 7)));
        Safetensors.write(f, t, Map.of());
        assertInvalid(() -> StateDict.layers(Safetensors.read(f), List.of()),
                "do not chain", "decoder.weight 6x5, encoder.weight 5x6, extra.weight 7x7, head.weight 3x5", "--layers NAME,NAME");
        // Naming the chain explicitly picks it out; weight tensor names work as well as module names.
        List<StateDict.Layer> chain = StateDict.layers(Safetensors.read(f), List.of("encoder", "head.weight"));
        assertEquals(List.of("encoder", "head"), chain.stream().map(StateDict.Layer::module).toList());
        assertInvalid(() -> StateDict.layers(Safetensors.read(f), List.of("encoder", "nope")), "'nope'", "candidates are");
    }

    @Test
    void convLayersChainBeforeLinearOnesAndBatchNormIsRecognised() throws IOException {
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        // torchvision-style names: features.* (convs, batchnorms) before classifier.* although 'c' < 'f'.
        t.put("classifier.0.weight", Tensor.ofFloats(new long[] {10, 8 * 4}, new float[320]));
        t.put("classifier.0.bias", Tensor.ofFloats(new long[] {10}, new float[10]));
        t.put("features.0.weight", Tensor.ofFloats(new long[] {4, 3, 3, 3}, new float[108]));
        t.put("features.1.weight", Tensor.ofFloats(new long[] {4}, new float[] {1, 2, 3, 4}));
        t.put("features.1.bias", Tensor.ofFloats(new long[] {4}, new float[4]));
        t.put("features.1.running_mean", Tensor.ofFloats(new long[] {4}, new float[4]));
        t.put("features.1.running_var", Tensor.ofFloats(new long[] {4}, new float[] {1, 1, 1, 1}));
        t.put("features.1.num_batches_tracked", Tensor.ofLongs(new long[] {}, new long[] {7}));
        t.put("features.3.weight", Tensor.ofFloats(new long[] {8, 4, 3, 3}, new float[288]));
        Path f = dir.resolve("cnn.safetensors");
        Safetensors.write(f, t, Map.of());
        List<StateDict.Layer> layers = StateDict.layers(Safetensors.read(f), List.of());
        assertEquals(List.of("features.0", "features.3", "classifier.0"), layers.stream().map(StateDict.Layer::module).toList());
        assertNotNull(layers.get(0).batchNorm());
        assertArrayEquals(new float[] {1, 2, 3, 4}, layers.get(0).batchNorm().weight());
        assertNull(layers.get(1).batchNorm());
        assertEquals(StateDict.Kind.CONV, layers.get(1).kind());
        assertEquals("layers: features.0.weight 4x3x3x3 + features.1, features.3.weight 8x4x3x3, classifier.0.weight 10x32",
                StateDict.summary(layers));
        assertInvalid(() -> ModelFile.load(f), "is a convolution");
    }

    @Test
    void pytorchPicklesAreRecognisedAndNeverRead() throws IOException {
        byte[] zip = new byte[64];
        zip[0] = 'P';
        zip[1] = 'K';
        zip[2] = 3;
        zip[3] = 4;
        Path pt = Files.write(dir.resolve("model.pt"), zip);
        assertInvalid(() -> ModelFile.load(pt), "model.pt", "PyTorch pickle", "zip", "does not unpickle",
                "save_file(torch.load(\"model.pt\"), \"model.safetensors\")");
        byte[] legacy = new byte[64];
        legacy[0] = (byte) 0x80;
        legacy[1] = 2;
        Path pth = Files.write(dir.resolve("model.pth"), legacy);
        assertInvalid(() -> ModelFile.load(pth), "PyTorch pickle", "legacy");
    }

    @Test
    void halfPrecisionConvertsExactly() {
        assertEquals(1f, StateDict.halfToFloat((short) 0x3C00));
        assertEquals(-2f, StateDict.halfToFloat((short) 0xC000));
        assertEquals(65504f, StateDict.halfToFloat((short) 0x7BFF));
        assertEquals(0x1p-24f, StateDict.halfToFloat((short) 0x0001));
        assertEquals(0x1p-14f - 0x1p-24f, StateDict.halfToFloat((short) 0x03FF));
        assertEquals(Float.POSITIVE_INFINITY, StateDict.halfToFloat((short) 0x7C00));
        assertTrue(Float.isNaN(StateDict.halfToFloat((short) 0x7E00)));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(StateDict.halfToFloat((short) 0x8000)));
        for (int h = 0; h < 0x7C00; h++) {
            float v = StateDict.halfToFloat((short) h);
            assertEquals(h, toHalfExact(v), "round trip of 0x" + Integer.toHexString(h));
        }
    }

    /** Reference binary16 encoder for exactly representable finite values (normal and subnormal). */
    private static int toHalfExact(float v) {
        if (v == 0) {
            return 0;
        }
        if (v < 0x1p-14f) {
            return Math.round(v / 0x1p-24f);
        }
        int e = Math.getExponent(v);
        int mant = Math.round((v / (float) Math.scalb(1.0, e) - 1f) * 1024f);
        return ((e + 15) << 10) | mant;
    }
}
