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
