package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Json;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** --l2-layers: the L2 penalty on chosen weight layers only (F21's L2 runs: L1 on the first layer, L2 on the others). */
class L2LayersTest {
    private static TrainConfig config(float l1, String l1Layers, float l2, String l2Layers) {
        return new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, 3, 32, 1e-2f, 0f, l1, l2, 7, Device.Kind.CPU, 1, null, null,
                null, null, null, null, l1Layers, l2Layers);
    }

    @Test
    void ratesPerLayerFollowTheChoice() {
        assertArrayEquals(new float[] {2e-3f, 2e-3f, 2e-3f}, config(0f, null, 2e-3f, null).l2PerLayer(3));
        assertArrayEquals(new float[] {0f, 2e-3f, 2e-3f}, config(0f, null, 2e-3f, "1,2").l2PerLayer(3));
        assertArrayEquals(new float[] {0f, 2e-3f, 0f}, config(0f, null, 2e-3f, "hidden").l2PerLayer(3));
        assertNull(config(0f, null, 2e-3f, "all").l2Layers(), "all is the default, recorded as no choice");
        TrainConfig f21 = config(1e-3f, "first", 2e-3f, "1,2");
        assertArrayEquals(new float[] {1e-3f, 0f, 0f}, f21.l1PerLayer(3));
        assertArrayEquals(new float[] {0f, 2e-3f, 2e-3f}, f21.l2PerLayer(3));
    }

    @Test
    void badChoicesAreOneClearError() {
        assertEquals("--l2-layers must be all, first, hidden or a comma list of weight-layer indices like 0,1; got 'rest'",
                assertThrows(InvalidInputException.class, () -> config(0f, null, 1e-3f, "rest")).getMessage());
        assertEquals("--l2-layers: layer 3 does not exist (the model's weight layers are 0..2)",
                assertThrows(InvalidInputException.class, () -> config(0f, null, 1e-3f, "1,3")).getMessage());
        assertEquals("--l2-layers 1,2 chooses the layers the L2 penalty acts on, but --l2 is 0: give --l2 R as well, or leave "
                + "--l2-layers out", assertThrows(InvalidInputException.class, () -> config(1e-3f, null, 0f, "1,2")).getMessage());
    }

    @Test
    void theChoiceIsRecordedAndReadBack() throws Exception {
        TrainConfig c = config(5e-5f, "first", 5e-5f, "1,2");
        String json = Json.write(c);
        assertTrue(json.contains("\"l2_layers\":\"1,2\"") || json.contains("\"l2_layers\" : \"1,2\""), json);
        TrainConfig back = Json.mapper().readValue(json, TrainConfig.class);
        assertEquals(c, back);
        assertEquals("1,2", back.withEpochs(9).withDevice(Device.cpu(2)).withPrune(PruneOptions.f21(2)).withL1Layers("first")
                .l2Layers(), "every with* keeps the choice (resume)");
        assertTrue(c.commandLine().contains(" --l1 5.0E-5 --l1-layers first --l2 5.0E-5 --l2-layers 1,2"), c.commandLine());
        String plain = Json.write(config(0f, null, 5e-5f, null));
        assertFalse(plain.contains("l2_layers"), "a default run's config stays as before: " + plain);
        assertNull(Json.mapper().readValue(plain, TrainConfig.class).l2Layers());
    }

    @Test
    void l2OnTheLaterLayersShrinksThoseOnly() {
        float l2 = 3e-2f;
        double[] none = L1LayersTest.trainedNorms(config(0f, null, 0f, null), v -> v * v);
        double[] later = L1LayersTest.trainedNorms(config(0f, null, l2, "1,2"), v -> v * v);
        double[] all = L1LayersTest.trainedNorms(config(0f, null, l2, null), v -> v * v);
        String why = "no L2 " + Arrays.toString(none) + " / 1,2 " + Arrays.toString(later) + " / all " + Arrays.toString(all);
        // the first layer has no L2 of its own: near its size without L2, many times its size with L2 everywhere
        assertEquals(none[0], later[0], 0.15 * none[0], why);
        assertTrue(later[0] > 4 * all[0], why);
        // the others: far smaller than without L2
        for (int l = 1; l < later.length; l++) {
            assertTrue(later[l] < 0.6 * none[l], "layer " + l + ": " + why);
        }
        // every layer named one by one is the default, bit for bit
        assertArrayEquals(all, L1LayersTest.trainedNorms(config(0f, null, l2, "0,1,2"), v -> v * v));
    }
}
