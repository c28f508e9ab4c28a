package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's architecture: a sequence of {@link Layer}s on an input {@link Shape}, every
 * layer's output shape checked on construction. Written as a preset name or a layer list,
 * comma-separated tokens (spaces ignored, case-insensitive):
 * <pre>
 *   conv:C[:kK][:sS][:pP][:nobias]   nn.Conv2d(in, C, K, stride=S, padding=P); K 3, S 1, P (K-1)/2 by default
 *   linear:N[:nobias]                nn.Linear(in, N)
 *   maxpool[:K][:sS]                 nn.MaxPool2d(K, stride=S); K 2, S K by default
 *   bn                               nn.BatchNorm2d(C)
 *   relu                             nn.ReLU()
 *   dropout:P                        nn.Dropout(P)
 *   flatten                          nn.Flatten()
 * </pre>
 * Layer i of the list is module i of the {@code nn.Sequential} that {@link #pytorch()} writes.
 * Errors name the token (its position and text) and what is wrong.
 */
public final class Arch {
    /** The presets of science.md §8 (and F21's MLP), name to layer list. */
    public static final Map<String, String> PRESETS;

    static {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("f21-mlp", "flatten,linear:256,relu,linear:256,relu,linear:256,relu,linear:256,relu,linear:10");
        p.put("f21-cnn", "conv:64,relu,conv:64,relu,maxpool,conv:64,relu,maxpool,flatten,linear:128,relu,linear:10");
        p.put("f21-cnn-dropout", "conv:64,relu,conv:64,relu,maxpool,dropout:0.25,conv:64,relu,maxpool,dropout:0.25,flatten,"
                + "linear:128,relu,dropout:0.5,linear:10");
        p.put("g24-cnn", "conv:16,relu,maxpool,flatten,linear:64:nobias,relu,linear:64:nobias,relu,linear:64:nobias,relu,"
                + "linear:10:nobias");
        p.put("g25-cnn", "conv:32,relu,conv:64,bn,relu,maxpool,maxpool,flatten,linear:128,relu,linear:64,relu,dropout:0.5,"
                + "linear:10");
        StringBuilder vgg = new StringBuilder();
        for (String c : "64,64,M,128,128,M,256,256,256,M,512,512,512,M,512,512,512,M".split(",")) {
            vgg.append(c.equals("M") ? "maxpool," : "conv:" + c + ",bn,relu,");
        }
        p.put("vgg16-cifar", vgg + "flatten,linear:512,relu,dropout:0.5,linear:10");
        PRESETS = java.util.Collections.unmodifiableMap(p);
    }

    private final String source;
    private final Shape input;
    private final List<Layer> layers;
    private final List<Shape> shapes; // shapes[i] = input of layer i; shapes[n] = output

    private Arch(String source, Shape input, List<Layer> layers) {
        this.source = source;
        this.input = input;
        this.layers = List.copyOf(layers);
        this.shapes = new ArrayList<>();
        shapes.add(input);
        Shape s = input;
        for (int i = 0; i < layers.size(); i++) {
            try {
                s = layers.get(i).out(s);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(where(source, i, layers.get(i).token()) + ": " + e.getMessage(), e);
            }
            shapes.add(s);
        }
        if (layers.isEmpty()) {
            throw new InvalidInputException("--arch '" + source + "' has no layers");
        }
    }

    /**
     * Parses a preset name or a layer list for input shape {@code input}.
     *
     * @throws InvalidInputException naming the bad token and what is wrong
     */
    public static Arch parse(String text, Shape input) {
        if (text == null || text.isBlank()) {
            throw new InvalidInputException("--arch is empty: give a preset (" + String.join(", ", PRESETS.keySet())
                    + ") or a layer list such as conv:16,relu,maxpool,flatten,linear:10");
        }
        String trimmed = text.replace(" ", "").toLowerCase(java.util.Locale.ROOT);
        String list = PRESETS.getOrDefault(trimmed, trimmed);
        String[] tokens = list.split(",", -1);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            layers.add(token(text, i, tokens[i]));
        }
        return new Arch(text.trim(), input, layers);
    }

    /** The architecture of an MLP with these widths (input first): flatten, then linear and relu layers. */
    public static Arch mlp(int[] widths, Shape input) {
        Mlp.validateWidths(widths);
        if (input.size() != widths[0]) {
            throw new InvalidInputException("--layers starts at " + widths[0] + " but the input is " + input + " = "
                    + input.size() + " values: the first width must be " + input.size());
        }
        StringBuilder sb = new StringBuilder("flatten");
        for (int l = 1; l < widths.length; l++) {
            sb.append(",linear:").append(widths[l]).append(l + 1 < widths.length ? ",relu" : "");
        }
        return parse(sb.toString(), input);
    }

    private static String where(String source, int index, String token) {
        return "--arch '" + source + "': token " + (index + 1) + " '" + token + "'";
    }

    private static Layer token(String source, int index, String token) {
        String[] parts = token.split(":", -1);
        String kind = parts[0];
        try {
            return switch (kind) {
                case "conv", "conv2d" -> conv(parts);
                case "linear", "fc" -> {
                    require(parts.length >= 2 && parts.length <= 3, "linear takes linear:N or linear:N:nobias");
                    require(parts.length == 2 || parts[2].equals("nobias"), "'" + parts[parts.length - 1]
                            + "' is not a linear option (only nobias)");
                    yield new Layer.Linear(positive(parts[1], "linear's width"), parts.length == 2);
                }
                case "maxpool", "pool" -> pool(parts);
                case "bn", "batchnorm", "batchnorm2d" -> {
                    require(parts.length == 1, "bn takes no arguments");
                    yield new Layer.BatchNorm2d();
                }
                case "relu" -> {
                    require(parts.length == 1, "relu takes no arguments");
                    yield new Layer.Relu();
                }
                case "flatten" -> {
                    require(parts.length == 1, "flatten takes no arguments");
                    yield new Layer.Flatten();
                }
                case "dropout" -> {
                    require(parts.length == 2, "dropout takes its probability, e.g. dropout:0.5");
                    float p;
                    try {
                        p = Float.parseFloat(parts[1]);
                    } catch (NumberFormatException e) {
                        throw new InvalidInputException("dropout's probability '" + parts[1] + "' is not a number");
                    }
                    yield new Layer.Dropout(p);
                }
                case "" -> throw new InvalidInputException("is empty (two commas in a row, or a comma at an end)");
                default -> throw new InvalidInputException("is not a layer: the layers are conv, linear, maxpool, bn, relu, "
                        + "dropout, flatten; the presets " + String.join(", ", PRESETS.keySet()));
            };
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where(source, index, token) + ": " + e.getMessage()
                    + " (grammar: see 'cleave train --help' and the README's --arch section)", e);
        }
    }

    private static Layer conv(String[] parts) {
        require(parts.length >= 2, "conv needs its output channels, e.g. conv:64");
        int channels = positive(parts[1], "conv's output channels");
        Integer k = null, s = null, p = null;
        boolean bias = true;
        for (int i = 2; i < parts.length; i++) {
            String a = parts[i];
            if (a.equals("nobias")) {
                bias = false;
            } else if (a.startsWith("k") && k == null) {
                k = positive(a.substring(1), "conv's kernel");
            } else if (a.startsWith("s") && s == null) {
                s = positive(a.substring(1), "conv's stride");
            } else if (a.startsWith("p") && p == null) {
                p = nonNegative(a.substring(1), "conv's padding");
            } else {
                throw new InvalidInputException("'" + a + "' is not a conv option (kK, sS, pP or nobias, each at most once)");
            }
        }
        int kernel = k == null ? 3 : k;
        return new Layer.Conv2d(channels, kernel, s == null ? 1 : s, p == null ? (kernel - 1) / 2 : p, bias);
    }

    private static Layer pool(String[] parts) {
        require(parts.length <= 3, "maxpool takes maxpool, maxpool:K or maxpool:K:sS");
        int kernel = parts.length >= 2 ? positive(parts[1], "maxpool's window") : 2;
        int stride = kernel;
        if (parts.length == 3) {
            require(parts[2].startsWith("s"), "'" + parts[2] + "' is not a maxpool option (sS)");
            stride = positive(parts[2].substring(1), "maxpool's stride");
        }
        return new Layer.MaxPool2d(kernel, stride);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new InvalidInputException(message);
        }
    }

    private static int positive(String text, String what) {
        int v = nonNegative(text, what);
        require(v > 0, what + " must be positive, got " + text);
        return v;
    }

    private static int nonNegative(String text, String what) {
        try {
            int v = Integer.parseInt(text);
            require(v >= 0 && v <= 1 << 20, what + " must be in [0, 1048576], got " + text);
            return v;
        } catch (NumberFormatException e) {
            throw new InvalidInputException(what + " '" + text + "' is not a whole number");
        }
    }

    /** The text this arch was parsed from (a preset name or a layer list), as given. */
    public String source() {
        return source;
    }

    /** The canonical layer list (parsing it gives the same arch). */
    public String layerList() {
        StringBuilder sb = new StringBuilder();
        for (Layer l : layers) {
            sb.append(sb.length() == 0 ? "" : ",").append(l.token());
        }
        return sb.toString();
    }

    public Shape input() {
        return input;
    }

    public List<Layer> layers() {
        return layers;
    }

    /** The input shape of layer i (i = size: the output shape). */
    public Shape shape(int i) {
        return shapes.get(i);
    }

    public Shape output() {
        return shapes.get(layers.size());
    }

    /** Trainable parameters (batchnorm's running statistics are not counted, as in PyTorch's numel over parameters()). */
    public long parameterCount() {
        long n = 0;
        for (int i = 0; i < layers.size(); i++) {
            for (Layer.Param p : layers.get(i).params(shapes.get(i))) {
                if (p.role().trainable()) {
                    n += (long) p.rows() * p.cols();
                }
            }
        }
        return n;
    }

    /** Checks that the output is a flat vector of {@code classes} logits. */
    public void requireOutputs(int classes, String dataset) {
        Shape out = output();
        if (!out.flat() || out.size() != classes) {
            throw new InvalidInputException("--arch '" + source + "' ends in " + out + " values but " + dataset + " has " + classes
                    + " classes: end it with linear:" + classes);
        }
    }

    /**
     * The widths of this arch when it is an MLP as {@link Mlp} trains it (an optional leading
     * flatten, then linear layers with biases and a relu after every one but the last), else null.
     */
    public int[] mlpWidths() {
        int i = 0;
        if (layers.get(0) instanceof Layer.Flatten) {
            i = 1;
        }
        if (!input.flat() && i == 0) {
            return null;
        }
        List<Integer> widths = new ArrayList<>();
        widths.add(input.size());
        while (i < layers.size()) {
            if (!(layers.get(i) instanceof Layer.Linear lin) || !lin.bias()) {
                return null;
            }
            widths.add(lin.outFeatures());
            i++;
            boolean last = i == layers.size();
            if (!last) {
                if (!(layers.get(i) instanceof Layer.Relu)) {
                    return null;
                }
                i++;
                if (i == layers.size()) {
                    return null; // ends in relu
                }
            }
        }
        return widths.size() < 2 ? null : widths.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The PyTorch lines that build the same model: {@code nn.Sequential(...)}. */
    public String pytorch() {
        StringBuilder sb = new StringBuilder("nn.Sequential(\n");
        for (int i = 0; i < layers.size(); i++) {
            sb.append("    ").append(layers.get(i).pytorch(shapes.get(i))).append(",  # ").append(i).append('\n');
        }
        return sb.append(")").toString();
    }

    @Override
    public String toString() {
        return source + " on " + input;
    }
}
