package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Tensor;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.SplittableRandom;

/**
 * F21's clusterable initialisation: every neuron gets a random module id in [0, modules); each
 * weight of layers 1.. (the first layer is left alone) is multiplied by
 * up = 1 + (1 - down)(modules - 1) when both its neurons share a module, else by down.
 */
public record ClusterableInit(@JsonProperty("modules") int modules, @JsonProperty("down") float down) {
    public ClusterableInit {
        if (modules < 1) {
            throw new InvalidInputException("clusterable init needs >= 1 module, got " + modules);
        }
        if (!(down > 0f && down <= 1f)) {
            throw new InvalidInputException("clusterable init needs 0 < down <= 1, got " + down);
        }
    }

    /** F21's setting for MLPs: 10 modules, down 0.6. */
    public static ClusterableInit f21() {
        return new ClusterableInit(10, 0.6f);
    }

    public float up() {
        return 1f + (1f - down) * (modules - 1);
    }

    /** F21's setting for CNNs: 10 modules, down 0.8, on whole kernel slices. */
    public static ClusterableInit f21Cnn() {
        return new ClusterableInit(10, 0.8f);
    }

    /**
     * The CNN form (F21): every conv output channel gets a module id; each kernel slice
     * K[j, i, :, :] of a conv whose input comes from an earlier conv (through relu, pooling,
     * batchnorm or dropout: the first conv, on the image, is left alone) is multiplied by
     * {@link #up()} when output channel j and input channel i share a module, else by down.
     * Linear layers are left alone. Module ids come from the seed's "clusterable-init" stream,
     * conv by conv.
     */
    public void apply(dev.cleave.nn.Network network, long seed) {
        SplittableRandom rng = Rng.stream(seed, "clusterable-init");
        java.util.List<dev.cleave.nn.Layer> layers = network.arch().layers();
        int[] previous = null; // module ids of the channels coming out of the last conv, null when none feeds this layer
        float up = up();
        for (int i = 0; i < layers.size(); i++) {
            dev.cleave.nn.Layer l = layers.get(i);
            if (l instanceof dev.cleave.nn.Layer.Conv2d conv) {
                int[] module = new int[conv.outChannels()];
                for (int j = 0; j < module.length; j++) {
                    module[j] = rng.nextInt(modules);
                }
                if (previous != null) {
                    Tensor w = weightOf(network, i);
                    int in = previous.length, k2 = conv.kernel() * conv.kernel();
                    for (int j = 0; j < module.length; j++) {
                        for (int c = 0; c < in; c++) {
                            float f = module[j] == previous[c] ? up : down;
                            for (int t = 0; t < k2; t++) {
                                w.set(j, c * k2 + t, w.get(j, c * k2 + t) * f);
                            }
                        }
                    }
                }
                previous = module;
            } else if (l instanceof dev.cleave.nn.Layer.Linear || l instanceof dev.cleave.nn.Layer.Flatten) {
                previous = null;
            }
        }
    }

    private static Tensor weightOf(dev.cleave.nn.Network network, int layer) {
        for (dev.cleave.nn.Network.Named n : network.tensors()) {
            if (n.layer() == layer && n.spec().role() == dev.cleave.nn.Layer.Role.WEIGHT) {
                return n.tensor();
            }
        }
        throw new IllegalStateException("layer " + layer + " has no weight");
    }

    /** Rescales {@code model}'s weights in place, module ids drawn from the seed's "clusterable-init" stream. */
    public void apply(Mlp model, long seed) {
        SplittableRandom rng = Rng.stream(seed, "clusterable-init");
        int[] widths = model.widths();
        int[][] module = new int[widths.length][];
        for (int l = 0; l < widths.length; l++) {
            module[l] = new int[widths[l]];
            for (int i = 0; i < widths[l]; i++) {
                module[l][i] = rng.nextInt(modules);
            }
        }
        float up = up();
        for (int l = 1; l < model.layers(); l++) {
            Tensor w = model.weight(l);
            for (int i = 0; i < w.rows(); i++) {
                for (int j = 0; j < w.cols(); j++) {
                    w.set(i, j, w.get(i, j) * (module[l + 1][i] == module[l][j] ? up : down));
                }
            }
        }
    }
}
