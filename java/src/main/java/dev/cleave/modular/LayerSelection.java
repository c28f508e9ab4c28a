package dev.cleave.modular;

import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;

/**
 * A choice of a network's weight layers, as the CLI's layer options take it: {@code hidden}
 * (the hidden-to-hidden weights: every layer but the first and the last), {@code all}, or a
 * comma list of layer indices counted from 0 (each at most once). Errors name the option the
 * user typed.
 */
public final class LayerSelection {
    private LayerSelection() {}

    /**
     * The layer indices {@code spec} selects among {@code layerCount} weight matrices, in the
     * order given.
     *
     * @param option the option that gave {@code spec}, for messages (e.g. "--modular-layers")
     */
    public static List<Integer> indices(String spec, int layerCount, String option) {
        String s = spec == null ? "hidden" : spec.trim();
        List<Integer> out = new ArrayList<>();
        switch (s) {
            case "hidden" -> {
                for (int l = 1; l + 1 < layerCount; l++) {
                    out.add(l);
                }
            }
            case "all" -> {
                for (int l = 0; l < layerCount; l++) {
                    out.add(l);
                }
            }
            default -> {
                for (String part : s.split(",", -1)) {
                    int l;
                    try {
                        l = Integer.parseInt(part.trim());
                    } catch (NumberFormatException e) {
                        throw new InvalidInputException(option + " must be hidden, all or a list of layer indices like 1,2; '"
                                + part.trim() + "' in '" + s + "' is not a layer index");
                    }
                    if (l < 0 || l >= layerCount) {
                        throw new InvalidInputException(option + ": layer " + l + " does not exist (the model's weight layers are 0.."
                                + (layerCount - 1) + ")");
                    }
                    if (out.contains(l)) {
                        throw new InvalidInputException(option + " " + s + " names layer " + l + " twice: give each layer once");
                    }
                    out.add(l);
                }
            }
        }
        if (out.isEmpty()) {
            throw new InvalidInputException(option + " " + s + " selects no layer of a " + layerCount
                    + "-layer network (hidden-to-hidden needs at least 3 weight layers): use all or a list");
        }
        return out;
    }

    /**
     * Checks that each selected layer of a network with these widths (input first) can be split
     * into k row and k column clusters: k at most the layer's input and output widths.
     *
     * @param kOption the option that gave k, for messages (e.g. "--modular-k")
     */
    public static void requireClustersFit(List<Integer> layers, int[] widths, int k, String kOption) {
        for (int l : layers) {
            int limit = Math.min(widths[l], widths[l + 1]);
            if (k > limit) {
                throw new InvalidInputException(kOption + " " + k + " is more clusters than layer " + l + " can hold (its weight is "
                        + widths[l + 1] + " x " + widths[l] + ", and every cluster needs a row and a column): use "
                        + kOption + " " + limit + " or less");
            }
        }
    }
}
