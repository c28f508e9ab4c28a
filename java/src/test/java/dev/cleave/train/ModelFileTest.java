package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Safetensors;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripKeepsWeightsAndConfig() throws IOException {
        TrainConfig cfg = TrainConfig.defaults("fashion-mnist", 3, 42);
        try (Mlp m = Mlp.glorotUniform(new int[] {5, 4, 3}, 1)) {
            Path f = tmp.resolve("m.safetensors");
            ModelFile.save(f, m, cfg, Map.of("note", "x"));
            try (ModelFile.Loaded l = ModelFile.load(f)) {
                assertEquals(cfg, l.config());
                assertEquals("x", l.metadata().get("note"));
                assertEquals(ModelFile.FORMAT, l.metadata().get("format"));
                for (int i = 0; i < 2; i++) {
                    assertArrayEquals(m.weight(i).toArray(), l.model().weight(i).toArray());
                    assertArrayEquals(m.bias(i).toArray(), l.model().bias(i).toArray());
                }
            }
        }
    }

    @Test
    void glorotInitHasTheRightRangeAndIsSeeded() {
        try (Mlp a = Mlp.glorotUniform(Mlp.F21_WIDTHS, 5); Mlp b = Mlp.glorotUniform(Mlp.F21_WIDTHS, 5)) {
            float[] w = a.weight(0).toArray();
            double limit = Math.sqrt(6.0 / (784 + 256)), max = 0, sum = 0;
            for (float v : w) {
                max = Math.max(max, Math.abs(v));
                sum += v;
            }
            assertTrue(max <= limit && max > 0.99 * limit, "max |w| " + max + " vs " + limit);
            assertTrue(Math.abs(sum / w.length) < 0.01 * limit);
            assertArrayEquals(w, b.weight(0).toArray());
            assertEquals(400_906, a.parameterCount());
        }
    }

    @Test
    void rejectsFilesThatAreNotModels() throws IOException {
        Path f = tmp.resolve("other.safetensors");
        LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("embedding", Safetensors.Tensor.of(FloatMatrix.zeros(2, 2)));
        Safetensors.write(f, t, Map.of());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains("no layer weights found"), e.getMessage());

        t.clear();
        t.put("layers.0.weight", Safetensors.Tensor.of(FloatMatrix.zeros(4, 5)));
        t.put("layers.0.bias", Safetensors.Tensor.ofFloats(new long[] {4}, new float[4]));
        t.put("layers.1.weight", Safetensors.Tensor.of(FloatMatrix.zeros(3, 7)));
        t.put("layers.1.bias", Safetensors.Tensor.ofFloats(new long[] {3}, new float[3]));
        Safetensors.write(f, t, Map.of());
        e = assertThrows(InvalidInputException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains("layers.1.weight 3x7 reads 7 inputs but layers.0.weight 4x5 gives 4"), e.getMessage());

        Files.write(f, new byte[] {9, 9});
        e = assertThrows(InvalidInputException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void nonFiniteWeightsAndBiasesAreRefusedNamingTensorAndIndex() throws IOException {
        Path file = tmp.resolve("nan.safetensors");
        float[] w = new float[6];
        w[4] = Float.NaN;
        LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("layers.0.weight", Safetensors.Tensor.of(new FloatMatrix(2, 3, w)));
        t.put("layers.0.bias", Safetensors.Tensor.ofFloats(new long[] {2}, new float[] {0f, Float.POSITIVE_INFINITY}));
        Safetensors.write(file, t, Map.of());
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().startsWith(file + ": tensor 'layers.0.weight' [2, 3] holds NaN at index 4 (row 1, column 1)"),
                e.getMessage());
        w[4] = 1f;
        t.put("layers.0.weight", Safetensors.Tensor.of(new FloatMatrix(2, 3, w)));
        Safetensors.write(file, t, Map.of());
        e = assertThrows(InvalidInputException.class, () -> ModelFile.load(file));
        assertTrue(e.getMessage().startsWith(file + ": tensor 'layers.0.bias' [2] holds Infinity at index 1:"), e.getMessage());
    }

    @Test
    void layerSizesAreCheckedBeforeAnythingIsAllocated() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> new TrainConfig("x", null,
                new int[] {784, 50000, 50000, 10}, 1, 128, 1e-3f, 0, 0, 0, 1, Device.Kind.CPU, 1, null, null, null, null));
        assertTrue(e.getMessage().startsWith("--layers 784,50000,50000,10: layer 1's weight matrix would hold 50000 x 50000 = "
                + "2500000000 values (9.3 GiB), more than the 2147483639 one tensor can hold"), e.getMessage());

        TrainConfig wide = new TrainConfig("x", null, new int[] {784, 1048576, 10}, 1, 128, 1e-3f, 0, 0, 0, 1, Device.Kind.CPU, 1,
                null, null, null, null);
        long p = 784L * 1048576 + 1048576 + 10L * 1048576 + 10;
        assertEquals(24 * p, wide.memoryNeeded().heapBytes());
        e = assertThrows(InvalidInputException.class, () -> wide.requireFitsMemory(4L << 30, 4L << 30));
        assertTrue(e.getMessage().startsWith("--layers 784,1048576,10: training needs about 18.6 GiB of Java heap and "),
                e.getMessage());
        assertTrue(e.getMessage().contains("but 4.0 GiB of heap and 4.0 GiB of native memory are available: use narrower "
                + "--layers, or give more memory (JAVA_OPTS=\"-Xmx"), e.getMessage());
        wide.requireFitsMemory(Long.MAX_VALUE, Long.MAX_VALUE);
        TrainConfig.defaults("x", 1, 1).requireFitsMemory(); // F21's network fits any machine that runs the tests
    }
}
