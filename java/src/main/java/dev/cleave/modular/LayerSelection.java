package dev.cleave.modular;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.collections.api.list.primitive.ImmutableIntList;
import org.eclipse.collections.api.list.primitive.IntList;
import org.eclipse.collections.impl.list.mutable.primitive.IntArrayList;

/**
 * A choice of a network's weight layers, as the CLI's layer options take it: {@code hidden}
 * (the hidden-to-hidden weights: every layer but the first and the last), {@code all}, a comma
 * list of layer indices counted from 0, or (where a command takes names) a comma list of the
 * layers' weight or module names; each layer at most once. Errors name the option the user
 * typed.
 */
public final class LayerSelection {
    private LayerSelection() {}

    /**
     * The layer indices {@code spec} selects among {@code layerCount} weight matrices, in the
     * order given.
     *
     * @param option the option that gave {@code spec}, for messages (e.g. "--modular-layers")
     */
    public static ImmutableIntList indices(String spec, int layerCount, String option) {
        String s = spec == null ? "hidden" : spec.trim();
        IntArrayList out = new IntArrayList();
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
        return out.toImmutable();
    }

    /**
     * The layer names in {@code spec} when it names layers (a comma list with a part that is not
     * a number, e.g. {@code fc2.weight,fc3}); empty for hidden, all and lists of indices.
     */
    public static List<String> names(String spec) {
        String s = spec == null ? "hidden" : spec.trim();
        if (s.equals("hidden") || s.equals("all")) {
            return List.of();
        }
        List<String> parts = new ArrayList<>();
        boolean named = false;
        for (String part : s.split(",", -1)) {
            String p = part.trim();
            parts.add(p);
            named |= !p.matches("-?[0-9]+");
        }
        return named ? List.copyOf(parts) : List.of();
    }

    /**
     * The indices of {@code names} among a model's layers, given by their weight tensors' names
     * ({@code weightNames}); a name may be the weight's or its module's (without ".weight").
     */
    public static ImmutableIntList indicesOf(List<String> names, List<String> weightNames, String option) {
        IntArrayList out = new IntArrayList(names.size());
        for (String name : names) {
            int at = -1;
            for (int i = 0; i < weightNames.size(); i++) {
                String w = weightNames.get(i);
                if (w.equals(name) || w.equals(name + ".weight") || (name.isEmpty() && w.equals("weight"))) {
                    at = i;
                }
            }
            if (at < 0) {
                throw new InvalidInputException(option + " names '" + name + "', which is not one of the model's layers "
                        + weightNames + " (in order; indices 0.." + (weightNames.size() - 1) + " work too)");
            }
            if (out.contains(at)) {
                throw new InvalidInputException(option + " names layer " + weightNames.get(at) + " twice: give each layer once");
            }
            out.add(at);
        }
        return out.toImmutable();
    }

    /**
     * Checks that each selected layer of a network with these widths (input first) can be split
     * into k row and k column clusters: k at most the layer's input and output widths.
     *
     * @param kOption the option that gave k, for messages (e.g. "--modular-k")
     */
    public static void requireClustersFit(IntList layers, int[] widths, int k, String kOption) {
        layers.forEach(l -> requireFits(l, widths[l + 1], widths[l], k, kOption));
    }

    /** As above, for a model's weight matrices (each out x in). */
    public static void requireClustersFit(IntList layers, List<FloatMatrix> weights, int k, String kOption) {
        layers.forEach(l -> requireFits(l, weights.get(l).rows(), weights.get(l).cols(), k, kOption));
    }

    private static void requireFits(int layer, int rows, int cols, int k, String kOption) {
        int limit = Math.min(rows, cols);
        if (k > limit) {
            throw new InvalidInputException(kOption + " " + k + " is more clusters than layer " + layer + " can hold (its weight is "
                    + rows + " x " + cols + ", and every cluster needs a row and a column): use " + kOption + " " + limit
                    + " or less");
        }
    }
}
