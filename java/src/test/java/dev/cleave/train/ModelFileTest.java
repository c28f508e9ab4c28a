package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Safetensors;
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
}
