package dev.cleave.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded random mutations of a good safetensors file: each read is a valid file or an InvalidInputException. */
class SafetensorsFuzzTest {
    static final int INPUTS = 2000;

    @TempDir
    Path tmp;

    @Test
    void mutatedFilesAreReadOrRejectedCleanly() throws IOException {
        LinkedHashMap<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("layers.0.weight", Safetensors.Tensor.ofFloats(new long[] {3, 4}, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
        tensors.put("layers.0.bias", Safetensors.Tensor.ofFloats(new long[] {3}, new float[] {0.5f, -1f, 2f}));
        tensors.put("steps", Safetensors.Tensor.ofLongs(new long[] {2}, new long[] {7, 9}));
        tensors.put("scale", Safetensors.Tensor.ofDoubles(new long[] {1, 1}, new double[] {0.25}));
        Path good = tmp.resolve("good.safetensors");
        Safetensors.write(good, tensors, Map.of("format", "fuzz", "widths", "4-3"));
        byte[] bytes = Files.readAllBytes(good);
        Path file = tmp.resolve("mutated.safetensors");
        Mutations mutations = new Mutations(20261207);
        int[] counts = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int i = 0; i < INPUTS; i++) {
                Files.write(file, mutations.mutate(bytes));
                boolean ok = Mutations.acceptsOrRejectsCleanly("safetensors input " + i, () -> {
                    SafetensorsFile f = Safetensors.read(file);
                    SafetensorsIntegrity.requireFinite(file, f.tensors());
                    SafetensorsIntegrity.payloadCrc32c(f.tensors(), f.metadata(), "none");
                    for (Safetensors.Tensor t : f.tensors().values()) {
                        if (t.dtype() == Safetensors.DType.F32 && t.shape().length == 2) {
                            t.asMatrix();
                        } else if (t.dtype() == Safetensors.DType.F32) {
                            t.asFloats();
                        }
                    }
                });
                counts[ok ? 0 : 1]++;
            }
        });
        assertEquals(INPUTS, counts[0] + counts[1]);
        assertTrue(counts[0] > 0 && counts[1] > 0, "the mutations should give both valid and invalid files: " + counts[0]
                + " accepted, " + counts[1] + " rejected");
    }
}
