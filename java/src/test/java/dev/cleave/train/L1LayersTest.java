package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --l1-layers: the L1 penalty on chosen weight layers only (F21's L2 runs put L1 on the first layer). */
class L1LayersTest {
    private static TrainConfig config(float l1, float l2, String l1Layers) {
        return new TrainConfig("blobs", null, new int[] {64, 32, 32, 4}, 3, 32, 1e-2f, 0f, l1, l2, 7, Device.Kind.CPU, 1, null, null,
                null, null, null, null, l1Layers);
    }

    @Test
    void ratesPerLayerFollowTheChoice() {
        assertArrayEquals(new float[] {1e-3f, 1e-3f, 1e-3f}, config(1e-3f, 0f, null).l1PerLayer(3));
        assertArrayEquals(new float[] {1e-3f, 0f, 0f}, config(1e-3f, 0f, "first").l1PerLayer(3));
        assertArrayEquals(new float[] {0f, 1e-3f, 0f}, config(1e-3f, 0f, "hidden").l1PerLayer(3));
        assertArrayEquals(new float[] {1e-3f, 0f, 1e-3f}, config(1e-3f, 0f, " 2,0 ").l1PerLayer(3));
        assertNull(config(1e-3f, 0f, "all").l1Layers(), "all is the default, recorded as no choice");
        assertArrayEquals(new float[] {0f, 0f, 0f}, config(0f, 1e-4f, null).l1PerLayer(3));
    }

    @Test
    void badChoicesAreOneClearError() {
        assertEquals("--l1-layers must be all, first, hidden or a comma list of weight-layer indices like 0,1; got 'last'",
                assertThrows(InvalidInputException.class, () -> config(1e-3f, 0f, "last")).getMessage());
        assertEquals("--l1-layers: layer 3 does not exist (the model's weight layers are 0..2)",
                assertThrows(InvalidInputException.class, () -> config(1e-3f, 0f, "0,3")).getMessage());
        assertEquals("--l1-layers 1,1 names layer 1 twice: give each layer once",
                assertThrows(InvalidInputException.class, () -> config(1e-3f, 0f, "1,1")).getMessage());
        assertEquals("--l1-layers first chooses the layers the L1 penalty acts on, but --l1 is 0: give --l1 R as well, or leave "
                + "--l1-layers out", assertThrows(InvalidInputException.class, () -> config(0f, 5e-5f, "first")).getMessage());
        assertTrue(assertThrows(InvalidInputException.class, () -> new TrainConfig("blobs", null, new int[] {64, 4}, 1, 32, 1e-3f,
                0f, 1e-3f, 0f, 1, Device.Kind.CPU, 1, null, null, null, null, null, null, "hidden")).getMessage()
                .contains("selects no layer"));
    }

    @Test
    void theChoiceIsRecordedAndReadBack() throws Exception {
        TrainConfig c = config(5e-5f, 5e-5f, "first");
        String json = Json.write(c);
        assertTrue(json.contains("\"l1_layers\":\"first\"") || json.contains("\"l1_layers\" : \"first\""), json);
        TrainConfig back = Json.mapper().readValue(json, TrainConfig.class);
        assertEquals(c, back);
        assertEquals("first", back.withEpochs(9).withDevice(Device.cpu(2)).withPrune(PruneOptions.f21(2)).l1Layers(),
                "every with* keeps the choice (resume)");
        assertTrue(c.commandLine().contains(" --l1 5.0E-5 --l1-layers first --l2 5.0E-5"), c.commandLine());
        String plain = Json.write(config(5e-5f, 0f, null));
        assertFalse(plain.contains("l1_layers"), "a default run's config stays as before: " + plain);
        assertNull(Json.mapper().readValue(plain, TrainConfig.class).l1Layers());
    }

    /** sum of {@code f(w)} over each weight layer after a short training of {@code cfg}. */
    static double[] trainedNorms(TrainConfig cfg, java.util.function.DoubleUnaryOperator f) {
        Dataset train = TrainerTest.blobs(320, 11), test = TrainerTest.blobs(64, 12);
        try (Backend backend = new CpuBackend(1); Mlp model = Mlp.glorotUniform(cfg.layers(), cfg.seed());
                Trainer t = new Trainer(cfg.withDevice(backend.device()), backend, model)) {
            for (int e = 0; e < cfg.epochs(); e++) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            double[] norms = new double[model.layers()];
            for (int l = 0; l < model.layers(); l++) {
                for (float v : model.weight(l).toArray()) {
                    norms[l] += f.applyAsDouble(v);
                }
            }
            return norms;
        }
    }

    @Test
    void l1OnTheFirstLayerShrinksTheFirstLayerOnly() {
        float l1 = 3e-3f, l2 = 1e-4f;
        double[] none = trainedNorms(config(0f, l2, null), Math::abs);
        double[] first = trainedNorms(config(l1, l2, "first"), Math::abs);
        double[] all = trainedNorms(config(l1, l2, null), Math::abs);
        List<String> why = new ArrayList<>(List.of("no L1 " + java.util.Arrays.toString(none), "first "
                + java.util.Arrays.toString(first), "all " + java.util.Arrays.toString(all)));
        // the first layer: as small as with L1 everywhere, far smaller than without L1
        assertTrue(first[0] < 0.8 * none[0], why.toString());
        assertEquals(all[0], first[0], 0.1 * all[0], why.toString());
        // the other layers: no L1 of their own, so as without L1 and larger than with L1 everywhere
        for (int l = 1; l < first.length; l++) {
            assertEquals(none[l], first[l], 0.05 * none[l], "layer " + l + ": " + why);
            assertTrue(first[l] > 1.1 * all[l], "layer " + l + ": " + why);
        }
        // all layers named one by one is the default, bit for bit
        assertArrayEquals(all, trainedNorms(config(l1, l2, "0,1,2"), Math::abs));
    }

    /** sum |w| of each conv and linear weight of the small CNN after a short training with these penalties. */
    private static double[] trainedCnnL1Norms(float l1, String l1Layers) {
        TrainConfig cfg = new TrainConfig("blobs", null, null, 3, 32, 1e-2f, 0f, l1, 1e-4f, 7, Device.Kind.CPU, 1, null, null, null,
                null, NetworkTrainerTest.SMALL_CNN, "1x8x8", l1Layers);
        Dataset train = TrainerTest.blobs(320, 13), test = TrainerTest.blobs(64, 14);
        try (Backend backend = new CpuBackend(1); dev.cleave.nn.Network net = Trainer.initialNetwork(cfg.withDevice(backend.device()),
                backend); Trainer t = new Trainer(cfg.withDevice(backend.device()), backend, net)) {
            for (int e = 0; e < cfg.epochs(); e++) {
                t.runEpoch(train, test, ProgressListener.NONE);
            }
            List<Double> norms = new ArrayList<>();
            for (dev.cleave.nn.Network.Named n : net.tensors()) {
                if (n.spec().role() == dev.cleave.nn.Layer.Role.WEIGHT) {
                    double sum = 0;
                    for (float v : n.tensor().toArray()) {
                        sum += Math.abs(v);
                    }
                    norms.add(sum);
                }
            }
            return norms.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /** The network path applies weight_penalty per weight (no folding): the choice counts conv and linear weights in order. */
    @Test
    void aCnnGetsL1OnItsChosenWeightsOnly() {
        double[] none = trainedCnnL1Norms(0f, null), first = trainedCnnL1Norms(3e-2f, "first"),
                last = trainedCnnL1Norms(3e-2f, "3");
        String why = java.util.Arrays.toString(none) + " / first " + java.util.Arrays.toString(first) + " / last "
                + java.util.Arrays.toString(last);
        assertEquals(4, none.length, why);
        assertTrue(first[0] < 0.9 * none[0] && last[0] > first[0], why);
        assertTrue(last[3] < 0.9 * none[3] && first[3] > last[3], why);
        assertEquals("--l1-layers: layer 4 does not exist (the model's weight layers are 0..3)",
                assertThrows(InvalidInputException.class, () -> trainedCnnL1Norms(1e-3f, "0,4")).getMessage());
    }
}
