package dev.cleave.modular;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nn.Arch;
import dev.cleave.nn.Shape;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class NetworkLayersTest {
    static final Shape MNIST = new Shape(1, 28, 28);

    private static List<Integer> modules(String spec, String arch) {
        return NetworkLayers.select(spec, Arch.parse(arch, MNIST), "--modular-layers").stream()
                .map(NetworkLayers.WeightLayer::module).toList();
    }

    private static String message(String spec, String arch) {
        return assertThrows(InvalidInputException.class, () -> modules(spec, arch)).getMessage();
    }

    @Test
    void layersAreNamedByModuleIndexAndAsThePapersNumberThem() {
        List<NetworkLayers.WeightLayer> g24 = NetworkLayers.of(Arch.parse("g24-cnn", MNIST));
        assertEquals(List.of("conv1 = layers.0 (conv 16 x 1 x 3 x 3)", "fc1 = layers.4 (linear 64 x 3136)",
                "fc2 = layers.6 (linear 64 x 64)", "fc3 = layers.8 (linear 64 x 64)", "fc4 = layers.10 (linear 10 x 64)"),
                g24.stream().map(NetworkLayers.WeightLayer::describe).toList());
        assertEquals(9, g24.get(0).slice());
        assertEquals(1, g24.get(1).slice());
        assertEquals("layers.6.weight", g24.get(2).weightName());
        // f21-cnn's conv layers 2 and 3 (64 input channels each) by every spelling
        for (String spec : List.of("conv2,conv3", "2,5", "layers.2,layers.5.weight", " CONV2 , conv3 ")) {
            assertEquals(List.of(2, 5), modules(spec, "f21-cnn"), spec);
        }
        assertEquals(List.of(5, 2), modules("conv3,conv2", "f21-cnn"), "in the order given");
    }

    @Test
    void hiddenAllConvAndLinearGroups() {
        assertEquals(List.of(4, 6, 8), modules("hidden", "g24-cnn"), "all but the first and the last, as cocluster's hidden");
        assertEquals(List.of(2, 5, 9), modules("hidden", "f21-cnn"));
        assertEquals(List.of(0, 4, 6, 8, 10), modules("all", "g24-cnn"));
        assertEquals(List.of(0, 2, 5), modules("conv", "f21-cnn"));
        assertEquals(List.of(9, 11), modules("linear", "f21-cnn"));
        // an MLP written as an arch: the MLP's hidden layers
        assertEquals(List.of(3, 5), modules("hidden", "flatten,linear:32,relu,linear:16,relu,linear:16,relu,linear:10"));
        String e = message("hidden", "conv:4,relu,flatten,linear:10");
        assertTrue(e.startsWith("--modular-layers hidden selects no layer of --arch conv:4,relu,flatten,linear:10 (hidden = the "
                + "conv and linear layers but the first and the last): name the layers instead; its weighted layers: conv1 = "
                + "layers.0"), e);
    }

    @Test
    void thePresetsDefaultToThePapersLayers() {
        assertEquals("fc2", NetworkLayers.defaultSpec(Arch.parse("g24-cnn", MNIST)));
        assertEquals("fc2", NetworkLayers.defaultSpec(Arch.parse("g24-cnn", new Shape(3, 32, 32))));
        assertEquals("fc2", NetworkLayers.defaultSpec(Arch.parse(Arch.PRESETS.get("g24-cnn"), MNIST)), "the preset written out");
        assertEquals("fc1,fc2,fc3", NetworkLayers.defaultSpec(Arch.parse("g25-cnn", new Shape(3, 32, 32))));
        assertEquals("hidden", NetworkLayers.defaultSpec(Arch.parse("f21-cnn", MNIST)));
        assertEquals(List.of(6), modules(NetworkLayers.defaultSpec(Arch.parse("g24-cnn", MNIST)), "g24-cnn"));
    }

    @Test
    void wrongNamesAndIndicesSayWhatTheLayersAre() {
        String e = message("fc9", "g24-cnn");
        assertTrue(e.startsWith("--modular-layers fc9: 'fc9' is not a layer of --arch g24-cnn; give hidden, all, conv, linear or a "
                + "list of its layers by name or module index; its weighted layers: conv1 = layers.0 (conv 16 x 1 x 3 x 3), fc1 ="), e);
        e = message("5", "g24-cnn");
        assertTrue(e.startsWith("--modular-layers: layers.5 of --arch g24-cnn is relu, which has no weights; its weighted layers:"), e);
        e = message("layers.11", "g24-cnn");
        assertTrue(e.startsWith("--modular-layers: --arch g24-cnn has no layers.11 (its modules are 0..10)"), e);
        e = message("fc2,layers.6", "g24-cnn");
        assertEquals("--modular-layers fc2,layers.6 names fc2 (layers.6) twice: give each layer once", e);
        assertTrue(message("fc2,", "g24-cnn").contains("'' is not a layer"));
        assertTrue(message("layers.x", "g24-cnn").contains("'layers.x' is not a layer"));
        assertTrue(message("99999999999", "g24-cnn").contains("'99999999999' is not a layer"));
    }

    @Test
    void kMustFitEveryChosenLayersChannels() {
        Arch f21 = Arch.parse("f21-cnn", MNIST);
        NetworkLayers.requireClustersFit(NetworkLayers.select("conv2,conv3", f21, "--modular-layers"), 64, "--modular-k");
        String e = assertThrows(InvalidInputException.class, () -> NetworkLayers.requireClustersFit(
                NetworkLayers.select("conv", f21, "--modular-layers"), 4, "--modular-k")).getMessage();
        assertEquals("--modular-k 4 is more clusters than conv1 (layers.0) can hold: it has 64 output and 1 input channels, and every "
                + "cluster needs one of each; use --modular-k 1 or less, or leave conv1 out", e);
        e = assertThrows(InvalidInputException.class, () -> NetworkLayers.requireClustersFit(
                NetworkLayers.select("fc2", f21, "--modular-layers"), 11, "--modular-k")).getMessage();
        assertTrue(e.contains("fc2 (layers.11) can hold: it has 10 output and 128 input features"), e);
    }
}
