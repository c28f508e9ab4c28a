package dev.cleave.modular;

import dev.cleave.nn.Arch;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Shape;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The weighted layers of a network ({@link Arch}) as modular training chooses them: every conv
 * and linear layer, named {@code layers.N} after its module index N in the {@code nn.Sequential}
 * (its weight is {@code layers.N.weight} in the model file) and, as G24 and F21 number them,
 * {@code convJ} / {@code fcJ} for the J-th conv / linear layer counted from 1.
 *
 * <p>A selection ({@code --modular-layers}) is one of
 * <ul>
 *   <li>{@code hidden}: every conv and linear layer but the first and the last, as
 *       {@code cleave cocluster} reads it on a CNN (g24-cnn: fc1, fc2, fc3; f21-cnn: conv2,
 *       conv3, fc1; for an MLP written as an arch, the layers an MLP's {@code hidden} chooses);</li>
 *   <li>{@code all}: every conv and linear layer; {@code conv}: every conv layer;
 *       {@code linear}: every linear layer;</li>
 *   <li>a comma list of module indices ({@code 6}), weight or module names
 *       ({@code layers.6.weight}, {@code layers.6}) or paper names ({@code fc2}, {@code conv2}),
 *       each layer at most once, in the order given.</li>
 * </ul>
 * A conv layer's clusters split its output channels (rows) and input channels (columns) and C
 * counts whole kernel slices K[j, i, :, :]; a linear layer's split its output and input features,
 * also after a flatten (a plain matrix, as G25 clustered its first FC layer).
 */
public final class NetworkLayers {
    private NetworkLayers() {}

    /**
     * The selection a preset's paper used, keyed by preset name: G24 clustered fc2 of its CNN,
     * G25 all three FC layers of its CNN.
     */
    private static final Map<String, String> PAPER_DEFAULTS = Map.of("g24-cnn", "fc2", "g25-cnn", "fc1,fc2,fc3");

    /**
     * One weighted layer.
     *
     * @param module the module index N (its weight is layers.N.weight)
     * @param name   the paper name: convJ or fcJ
     * @param conv   whether it is a conv layer (else linear)
     * @param rows   output channels (conv) or output features (linear)
     * @param cols   input channels (conv) or input features (linear)
     * @param slice  kh * kw for a conv, 1 for a linear layer
     * @param kernel the conv's kernel side (kh = kw), 1 for a linear layer
     * @param hidden whether it is neither the first nor the last weighted layer
     */
    public record WeightLayer(int module, String name, boolean conv, int rows, int cols, int slice, int kernel,
            boolean hidden) {
        /** "layers.N.weight", the weight's tensor name (and the metrics' key). */
        public String weightName() {
            return "layers." + module + ".weight";
        }

        /** E.g. "fc2 = layers.6 (linear 64 x 64)" or "conv2 = layers.2 (conv 64 x 64 x 3 x 3)". */
        public String describe() {
            return name + " = layers." + module + " (" + (conv ? "conv " + rows + " x " + cols + " x " + kernel + " x " + kernel
                    : "linear " + rows + " x " + cols) + ")";
        }
    }

    /** Every conv and linear layer of {@code arch}, in order. */
    public static List<WeightLayer> of(Arch arch) {
        List<WeightLayer> out = new ArrayList<>();
        int convs = 0, linears = 0;
        int firstWeighted = -1, lastWeighted = -1;
        for (int i = 0; i < arch.layers().size(); i++) {
            Layer l = arch.layers().get(i);
            if (l instanceof Layer.Conv2d || l instanceof Layer.Linear) {
                firstWeighted = firstWeighted < 0 ? i : firstWeighted;
                lastWeighted = i;
            }
        }
        for (int i = 0; i < arch.layers().size(); i++) {
            Layer l = arch.layers().get(i);
            Shape in = arch.shape(i);
            if (l instanceof Layer.Conv2d c) {
                out.add(new WeightLayer(i, "conv" + ++convs, true, c.outChannels(), in.channels(), c.kernel() * c.kernel(),
                        c.kernel(), i != firstWeighted && i != lastWeighted));
            } else if (l instanceof Layer.Linear lin) {
                out.add(new WeightLayer(i, "fc" + ++linears, false, lin.outFeatures(), in.size(), 1, 1,
                        i != firstWeighted && i != lastWeighted));
            }
        }
        return List.copyOf(out);
    }

    /**
     * The selection used when {@code --modular-layers} is not given: the layers the preset's
     * paper clustered (g24-cnn: fc2; g25-cnn: fc1, fc2, fc3), matched by the layer list so that
     * the preset written out counts too; {@code hidden} for any other network.
     */
    public static String defaultSpec(Arch arch) {
        for (Map.Entry<String, String> e : PAPER_DEFAULTS.entrySet()) {
            try {
                if (Arch.parse(e.getKey(), arch.input()).layerList().equals(arch.layerList())) {
                    return e.getValue();
                }
            } catch (InvalidInputException notForThisInput) {
                // the preset does not fit this input shape, so it is not this arch
            }
        }
        return "hidden";
    }

    /**
     * The layers {@code spec} selects in {@code arch}, in the order given.
     *
     * @param option the option that gave {@code spec}, for messages (e.g. "--modular-layers")
     * @throws InvalidInputException naming the part of {@code spec} that is wrong and the
     *     network's layers
     */
    public static List<WeightLayer> select(String spec, Arch arch, String option) {
        List<WeightLayer> layers = of(arch);
        String s = spec == null ? "hidden" : spec.trim().toLowerCase(Locale.ROOT);
        List<WeightLayer> out = new ArrayList<>();
        switch (s) {
            case "hidden" -> layers.stream().filter(WeightLayer::hidden).forEach(out::add);
            case "all" -> out.addAll(layers);
            case "conv" -> layers.stream().filter(WeightLayer::conv).forEach(out::add);
            case "linear" -> layers.stream().filter(w -> !w.conv()).forEach(out::add);
            default -> {
                for (String part : s.split(",", -1)) {
                    WeightLayer w = find(part.trim(), s, layers, arch, option);
                    if (out.contains(w)) {
                        throw new InvalidInputException(option + " " + s + " names " + w.name() + " (layers." + w.module()
                                + ") twice: give each layer once");
                    }
                    out.add(w);
                }
            }
        }
        if (out.isEmpty()) {
            throw new InvalidInputException(option + " " + s + " selects no layer of --arch " + arch.source()
                    + (s.equals("hidden") ? " (hidden = the conv and linear layers but the first and the last)" : "")
                    + ": name the layers instead; " + listing(layers));
        }
        return List.copyOf(out);
    }

    /**
     * Checks that each layer can be split into k clusters of rows and k of columns: k at most its
     * output and its input channels (conv) or features (linear).
     *
     * @param kOption the option that gave k, for messages (e.g. "--modular-k")
     */
    public static void requireClustersFit(List<WeightLayer> layers, int k, String kOption) {
        for (WeightLayer w : layers) {
            int limit = Math.min(w.rows(), w.cols());
            if (k > limit) {
                String unit = w.conv() ? "channels" : "features";
                throw new InvalidInputException(kOption + " " + k + " is more clusters than " + w.name() + " (layers." + w.module()
                        + ") can hold: it has " + w.rows() + " output and " + w.cols() + " input " + unit + ", and every cluster "
                        + "needs one of each; use " + kOption + " " + limit + " or less, or leave " + w.name() + " out");
            }
        }
    }

    private static WeightLayer find(String part, String spec, List<WeightLayer> layers, Arch arch, String option) {
        String p = part;
        if (p.startsWith("layers.")) {
            p = p.substring("layers.".length());
            if (p.endsWith(".weight")) {
                p = p.substring(0, p.length() - ".weight".length());
            }
            if (!p.matches("[0-9]+")) {
                throw notALayer(part, spec, layers, arch, option);
            }
        }
        if (p.matches("[0-9]+")) {
            int module;
            try {
                module = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw notALayer(part, spec, layers, arch, option);
            }
            for (WeightLayer w : layers) {
                if (w.module() == module) {
                    return w;
                }
            }
            if (module < arch.layers().size()) {
                throw new InvalidInputException(option + ": layers." + module + " of --arch " + arch.source() + " is "
                        + arch.layers().get(module).token() + ", which has no weights; " + listing(layers));
            }
            throw new InvalidInputException(option + ": --arch " + arch.source() + " has no layers." + module + " (its modules are "
                    + "0.." + (arch.layers().size() - 1) + "); " + listing(layers));
        }
        for (WeightLayer w : layers) {
            if (w.name().equals(p)) {
                return w;
            }
        }
        throw notALayer(part, spec, layers, arch, option);
    }

    private static InvalidInputException notALayer(String part, String spec, List<WeightLayer> layers, Arch arch, String option) {
        return new InvalidInputException(option + " " + spec + ": '" + part + "' is not a layer of --arch " + arch.source()
                + "; give hidden, all, conv, linear or a list of its layers by name or module index; " + listing(layers));
    }

    private static String listing(List<WeightLayer> layers) {
        StringBuilder sb = new StringBuilder("its weighted layers: ");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(layers.get(i).describe());
        }
        return sb.toString();
    }
}
