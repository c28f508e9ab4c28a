package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import org.junit.jupiter.api.Test;

/** The --arch grammar, the presets of science.md §8 with their parameter counts, and the errors. */
class ArchTest {
    static final Shape MNIST = new Shape(1, 28, 28), CIFAR = new Shape(3, 32, 32);

    /** Parameters of a conv k x k with bias, and of a linear layer. */
    static long conv(int in, int out, int k, boolean bias) {
        return (long) out * in * k * k + (bias ? out : 0);
    }

    static long linear(int in, int out, boolean bias) {
        return (long) out * in + (bias ? out : 0);
    }

    @Test
    void g24CnnHasThePublishedParameterCountOnCifar() {
        Arch a = Arch.parse("g24-cnn", CIFAR);
        assertEquals(271_424, a.parameterCount());
        assertEquals(Shape.vector(4096), a.shape(4)); // flatten 16*16*16
        assertEquals(conv(1, 16, 3, true) + linear(3136, 64, false) + 2 * linear(64, 64, false) + linear(64, 10, false),
                Arch.parse("g24-cnn", MNIST).parameterCount());
    }

    @Test
    void everyPresetBuildsWithItsParameterCount() {
        assertEquals(400_906, Arch.parse("f21-mlp", MNIST).parameterCount());
        assertArrayEquals(Mlp.F21_WIDTHS, Arch.parse("f21-mlp", MNIST).mlpWidths());
        long f21 = conv(1, 64, 3, true) + 2 * conv(64, 64, 3, true) + linear(3136, 128, true) + linear(128, 10, true);
        assertEquals(f21, Arch.parse("f21-cnn", MNIST).parameterCount());
        assertEquals(f21, Arch.parse("f21-cnn-dropout", MNIST).parameterCount());
        assertEquals(Shape.vector(3136), Arch.parse("f21-cnn", MNIST).shape(9)); // after flatten
        long g25 = conv(3, 32, 3, true) + conv(32, 64, 3, true) + 2 * 64 + linear(4096, 128, true) + linear(128, 64, true)
                + linear(64, 10, true);
        assertEquals(g25, Arch.parse("g25-cnn", CIFAR).parameterCount());
        int[] channels = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
        long vgg = 0;
        int in = 3;
        for (int c : channels) {
            vgg += conv(in, c, 3, true) + 2 * c;
            in = c;
        }
        vgg += linear(512, 512, true) + linear(512, 10, true);
        Arch v = Arch.parse("vgg16-cifar", CIFAR);
        assertEquals(vgg, v.parameterCount());
        assertEquals(Shape.vector(512), v.shape(v.layers().size() - 4)); // into linear:512
        for (String preset : Arch.PRESETS.keySet()) {
            Arch a = Arch.parse(preset, preset.equals("g25-cnn") || preset.equals("vgg16-cifar") ? CIFAR : MNIST);
            assertEquals(Shape.vector(10), a.output(), preset);
            Arch again = Arch.parse(a.layerList(), a.input());
            assertEquals(a.layerList(), again.layerList(), preset + " round-trips through its layer list");
            assertNull(preset.equals("f21-mlp") ? null : a.mlpWidths(), preset);
        }
    }

    @Test
    void tokensParseWithTheirDefaultsAndOptions() {
        Arch a = Arch.parse(" Conv:8:k5:s2:p0:nobias , relu, maxpool:3:s1, bn, dropout:0.5, flatten, linear:10:nobias", MNIST);
        assertEquals(new Layer.Conv2d(8, 5, 2, 0, false), a.layers().get(0));
        assertEquals(new Shape(8, 12, 12), a.shape(1));
        assertEquals(new Layer.MaxPool2d(3, 1), a.layers().get(2));
        assertEquals(new Shape(8, 10, 10), a.shape(3));
        assertEquals("conv:8:k5:s2:p0:nobias,relu,maxpool:3:s1,bn,dropout:0.5,flatten,linear:10:nobias", a.layerList());
        assertEquals(new Layer.Conv2d(4, 3, 1, 1, true), Arch.parse("conv:4,flatten,linear:10", MNIST).layers().get(0));
        assertTrue(a.pytorch().contains("nn.Conv2d(1, 8, 5, stride=2, padding=0, bias=False),  # 0"), a.pytorch());
        assertTrue(a.pytorch().contains("nn.Linear(800, 10, bias=False),  # 6"), a.pytorch());
        assertNull(Arch.parse("flatten,linear:10,relu", MNIST).mlpWidths(), "an MLP ending in relu is not the MLP path");
        assertNull(Arch.parse("flatten,linear:10:nobias", MNIST).mlpWidths(), "nor one without biases");
        assertArrayEquals(new int[] {784, 32, 10}, Arch.mlp(new int[] {784, 32, 10}, MNIST).mlpWidths());
    }

    @Test
    void errorsNameTheBadToken() {
        assertError("conv:64,relu,convv:3", "token 3 'convv:3'", "is not a layer");
        assertError("conv:x", "token 1 'conv:x'", "not a whole number");
        assertError("conv:64,,relu", "token 2 ''", "empty");
        assertError("conv:8,linear:10", "token 2 'linear:10'", "put flatten before it");
        assertError("conv:8:q3,flatten,linear:10", "token 1 'conv:8:q3'", "not a conv option");
        assertError("conv:8,dropout:1.5,flatten,linear:10", "token 2 'dropout:1.5'", "[0, 1)");
        assertError("conv:8:k31:p0,flatten,linear:10", "token 1 'conv:8:k31:p0'", "does not fit");
        assertError("flatten,linear:10:bias", "token 2 'linear:10:bias'", "nobias");
        assertError("", "--arch is empty", "preset");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Arch.parse("vgg16-cifar", MNIST));
        assertTrue(e.getMessage().contains("'maxpool'") && e.getMessage().contains("512x1x1"), e.getMessage());
        InvalidInputException out = assertThrows(InvalidInputException.class,
                () -> Arch.parse("flatten,linear:7", MNIST).requireOutputs(10, "fashion-mnist"));
        assertTrue(out.getMessage().contains("linear:10"), out.getMessage());
    }

    private static void assertError(String arch, String... parts) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Arch.parse(arch, MNIST));
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), e.getMessage() + " should contain " + p);
        }
    }
}
