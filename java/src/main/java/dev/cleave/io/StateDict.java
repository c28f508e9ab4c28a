package dev.cleave.io;

import dev.cleave.util.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The layer chain of a PyTorch {@code state_dict} saved as safetensors, whatever its module
 * names: {@code nn.Sequential} numbering ({@code 0.weight}, {@code 2.weight}), named modules
 * ({@code fc1.weight}, {@code net.fc1.weight}) or Cleave's own {@code layers.N.weight}.
 *
 * <p>A layer is a tensor named {@code <module>.weight} of rank 2 (linear, out x in) or 4 (conv,
 * out x in x kh x kw), with its optional {@code <module>.bias}. A rank-1 {@code weight} whose
 * module also has {@code running_mean} and {@code running_var} is a BatchNorm, attached to the
 * layer before it. Conv layers come first, then linear layers, each in order of module path,
 * comparing the numeric runs inside names as numbers ({@code fc2} before {@code fc10},
 * {@code 2} before {@code 10}; torchvision's {@code features.*} convs before its
 * {@code classifier.*}); the order is then
 * checked by the shapes chaining: a linear layer reads the previous layer's outputs, a conv
 * reads the previous conv's channels, and a linear layer after a conv reads a whole number of
 * values per channel (a flatten). When that fails, or when other rank-2/4 weights make the
 * order ambiguous, the error lists the candidates and says how to name the chain. F16, BF16
 * and F64 tensors are converted to float; a missing bias reads as absent (callers use zeros).
 */
public final class StateDict {

    /** What kind of layer a weight tensor makes. */
    public enum Kind { LINEAR, CONV }

    /** BatchNorm parameters that follow a layer (each of length {@code channels}). */
    public record BatchNorm(String module, float[] weight, float[] bias, float[] runningMean, float[] runningVar) {}

    /**
     * One layer of the chain: its module path, kind, weight shape and values (row-major, in
     * PyTorch's layout), bias (null when the file has none) and the BatchNorm after it (or null).
     */
    public record Layer(String module, Kind kind, long[] shape, float[] weight, float[] bias, BatchNorm batchNorm) {
        /** Output units (rows, or output channels). */
        public int out() {
            return (int) shape[0];
        }

        /** Input units (columns, or input channels). */
        public int in() {
            return (int) shape[1];
        }

        /** The tensor name of the weight. */
        public String weightName() {
            return module.isEmpty() ? "weight" : module + ".weight";
        }

        /** "fc1.weight 256x784". */
        public String describe() {
            StringBuilder sb = new StringBuilder(weightName()).append(' ');
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : "x").append(shape[i]);
            }
            return sb.toString();
        }
    }

    private StateDict() {}

    /**
     * The layer chain of {@code file}. {@code chain} names it explicitly (module names or weight
     * tensor names, in order); empty means find it from the names.
     *
     * @throws InvalidInputException naming the file, what is wrong and how to fix it
     */
    public static List<Layer> layers(SafetensorsFile file, List<String> chain) {
        Path path = file.path();
        Map<String, Safetensors.Tensor> tensors = file.tensors();
        List<String> candidates = new ArrayList<>();
        for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
            int rank = e.getValue().shape().length;
            if (isWeight(e.getKey()) && (rank == 2 || rank == 4)) {
                candidates.add(module(e.getKey()));
            }
        }
        if (candidates.isEmpty()) {
            throw new InvalidInputException(path + ": no layer weights found: expected tensors named '<module>.weight' of "
                    + "rank 2 (linear) or 4 (conv); the file has " + list(tensors.keySet()));
        }
        List<String> modules;
        boolean explicit = chain != null && !chain.isEmpty();
        if (explicit) {
            modules = new ArrayList<>();
            for (String name : chain) {
                String m = isWeight(name) ? module(name) : name;
                if (!candidates.contains(m)) {
                    throw new InvalidInputException(path + ": --layers names '" + name + "', which is not a rank-2 or rank-4 "
                            + "weight of this file; the candidates are " + describeAll(tensors, candidates));
                }
                if (modules.contains(m)) {
                    throw new InvalidInputException(path + ": --layers names '" + name + "' twice");
                }
                modules.add(m);
            }
        } else {
            modules = new ArrayList<>(candidates);
            modules.sort(Comparator.comparing((String m) -> tensors.get(m.isEmpty() ? "weight" : m + ".weight").shape().length != 4)
                    .thenComparing(NATURAL));
        }
        List<Layer> layers = new ArrayList<>();
        for (String m : modules) {
            layers.add(layer(file, m));
        }
        String problem = chainProblem(layers);
        if (problem != null) {
            String how = explicit ? "check the order of --layers" : "name the chain with --layers NAME,NAME,... (first layer first)";
            throw new InvalidInputException(path + ": the layers do not chain: " + problem + "; found "
                    + describeAll(tensors, modules) + "; " + how);
        }
        return List.copyOf(layers);
    }

    /** The first lines a command prints: "layers: fc1.weight 256x784, fc2.weight 256x256, ...". */
    public static String summary(List<Layer> layers) {
        StringBuilder sb = new StringBuilder("layers: ");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(layers.get(i).describe());
            if (layers.get(i).batchNorm() != null) {
                sb.append(" + ").append(layers.get(i).batchNorm().module());
            }
        }
        return sb.toString();
    }

    /** Null when consecutive layers chain by shape, else what breaks. */
    static String chainProblem(List<Layer> layers) {
        for (int i = 1; i < layers.size(); i++) {
            Layer prev = layers.get(i - 1), cur = layers.get(i);
            if (cur.kind() == Kind.CONV && prev.kind() == Kind.LINEAR) {
                return cur.describe() + " (a conv) follows " + prev.describe() + " (a linear layer)";
            }
            boolean chains = cur.kind() == Kind.LINEAR && prev.kind() == Kind.CONV
                    ? cur.in() % prev.out() == 0
                    : cur.in() == prev.out();
            if (!chains) {
                return cur.describe() + " reads " + cur.in() + " inputs but " + prev.describe() + " gives " + prev.out()
                        + (prev.kind() == Kind.CONV && cur.kind() == Kind.LINEAR ? " channels (not a divisor)" : "");
            }
        }
        return null;
    }

    private static Layer layer(SafetensorsFile file, String module) {
        String prefix = module.isEmpty() ? "" : module + ".";
        Safetensors.Tensor w = file.tensors().get(prefix + "weight");
        long[] shape = w.shape();
        for (long d : shape) {
            if (d <= 0 || d > Integer.MAX_VALUE) {
                throw new InvalidInputException(file.path() + ": " + prefix + "weight has shape " + Arrays.toString(shape)
                        + "; every dimension must be in [1, 2^31)");
            }
        }
        Kind kind = shape.length == 2 ? Kind.LINEAR : Kind.CONV;
        float[] weight = floats(file, prefix + "weight", w);
        float[] bias = null;
        Safetensors.Tensor b = file.tensors().get(prefix + "bias");
        if (b != null) {
            if (b.shape().length != 1 || b.shape()[0] != shape[0]) {
                throw new InvalidInputException(file.path() + ": " + prefix + "bias has shape " + Arrays.toString(b.shape())
                        + " but " + prefix + "weight has " + shape[0] + " outputs: the bias must be 1-D of that length");
            }
            bias = floats(file, prefix + "bias", b);
        }
        return new Layer(module, kind, shape, weight, bias, batchNormAfter(file, module, kind, (int) shape[0]));
    }

    /**
     * The BatchNorm module after {@code module}: the module that directly follows it in natural
     * order ({@code features.0} then {@code features.1}) when that one has running statistics;
     * otherwise, for a conv, the one BatchNorm beside it with the same number ({@code conv2} and
     * {@code bn2} under the same parent) that follows no layer in natural order; else null.
     */
    private static BatchNorm batchNormAfter(SafetensorsFile file, String module, Kind kind, int channels) {
        List<String> modules = new ArrayList<>();
        for (String name : file.tensors().keySet()) {
            if (isWeight(name)) {
                modules.add(module(name));
            }
        }
        modules.sort(NATURAL);
        int at = modules.indexOf(module);
        if (at < 0) {
            return null;
        }
        String next = at + 1 < modules.size() && isBatchNorm(file, modules.get(at + 1)) ? modules.get(at + 1) : null;
        if (next == null && kind == Kind.CONV) {
            List<String> siblings = new ArrayList<>();
            for (int i = 0; i < modules.size(); i++) {
                String m = modules.get(i);
                boolean followsLayer = i > 0 && isLayer(file, modules.get(i - 1));
                if (isBatchNorm(file, m) && !followsLayer && sameNumberBeside(module, m)) {
                    siblings.add(m);
                }
            }
            next = siblings.size() == 1 ? siblings.get(0) : null;
        }
        if (next == null) {
            return null;
        }
        String p = next.isEmpty() ? "" : next + ".";
        Safetensors.Tensor w = file.tensors().get(p + "weight");
        Safetensors.Tensor mean = file.tensors().get(p + "running_mean");
        Safetensors.Tensor var = file.tensors().get(p + "running_var");
        Safetensors.Tensor bias = file.tensors().get(p + "bias");
        for (String part : new String[] {"weight", "running_mean", "running_var", "bias"}) {
            Safetensors.Tensor t = file.tensors().get(p + part);
            if (t != null && (t.shape().length != 1 || t.shape()[0] != channels)) {
                throw new InvalidInputException(file.path() + ": " + p + part + " has shape " + Arrays.toString(t.shape())
                        + " but the BatchNorm follows " + (module.isEmpty() ? "" : module + ".") + "weight with " + channels
                        + " channels");
            }
        }
        return new BatchNorm(next, floats(file, p + "weight", w), bias == null ? new float[channels] : floats(file, p + "bias", bias),
                floats(file, p + "running_mean", mean), floats(file, p + "running_var", var));
    }

    private static boolean isBatchNorm(SafetensorsFile file, String module) {
        String p = module.isEmpty() ? "" : module + ".";
        Safetensors.Tensor w = file.tensors().get(p + "weight");
        return w != null && w.shape().length == 1 && file.tensors().containsKey(p + "running_mean")
                && file.tensors().containsKey(p + "running_var");
    }

    private static boolean isLayer(SafetensorsFile file, String module) {
        Safetensors.Tensor w = file.tensors().get(module.isEmpty() ? "weight" : module + ".weight");
        return w != null && (w.shape().length == 2 || w.shape().length == 4);
    }

    /** Same parent path and the same trailing number in the last part, which ends in a digit: conv2 and bn2, net.conv2 and net.bn2. */
    static boolean sameNumberBeside(String a, String b) {
        int da = a.lastIndexOf('.'), db = b.lastIndexOf('.');
        if (!a.substring(0, da + 1).equals(b.substring(0, db + 1))) {
            return false;
        }
        String la = a.substring(da + 1), lb = b.substring(db + 1);
        String na = la.replaceAll("^.*?(\\d+)$", "$1"), nb = lb.replaceAll("^.*?(\\d+)$", "$1");
        return !la.isEmpty() && Character.isDigit(la.charAt(la.length() - 1)) && !na.equals(la) && !nb.equals(lb)
                && na.equals(nb);
    }

    /** The values of a floating-point tensor as float (F16, BF16 and F64 converted). */
    public static float[] floats(SafetensorsFile file, String name, Safetensors.Tensor t) {
        java.nio.ByteBuffer data = t.data();
        int n = Math.toIntExact(t.elementCount());
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> data.asFloatBuffer().get(out);
            case F64 -> {
                java.nio.DoubleBuffer d = data.asDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = (float) d.get(i);
                }
            }
            case F16 -> {
                java.nio.ShortBuffer s = data.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(s.get(i));
                }
            }
            case BF16 -> {
                java.nio.ShortBuffer s = data.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((s.get(i) & 0xFFFF) << 16);
                }
            }
            default -> throw new InvalidInputException(file.path() + ": tensor '" + name + "' is " + t.dtype()
                    + "; layer tensors must be F32, F16, BF16 or F64");
        }
        return out;
    }

    /** IEEE 754 binary16 to float, exactly (subnormals, infinities and NaN included). */
    static float halfToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): mant x 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    private static boolean isWeight(String name) {
        return name.equals("weight") || name.endsWith(".weight");
    }

    private static String module(String weightName) {
        return weightName.equals("weight") ? "" : weightName.substring(0, weightName.length() - ".weight".length());
    }

    private static String describeAll(Map<String, Safetensors.Tensor> tensors, List<String> modules) {
        List<String> out = new ArrayList<>();
        for (String m : modules) {
            String name = m.isEmpty() ? "weight" : m + ".weight";
            Safetensors.Tensor t = tensors.get(name);
            StringBuilder sb = new StringBuilder(name).append(' ');
            for (int i = 0; i < t.shape().length; i++) {
                sb.append(i == 0 ? "" : "x").append(t.shape()[i]);
            }
            out.add(sb.toString());
        }
        return list(out);
    }

    private static String list(java.util.Collection<String> names) {
        if (names.isEmpty()) {
            return "no tensors";
        }
        List<String> shown = names.stream().limit(24).toList();
        return String.join(", ", shown) + (names.size() > shown.size() ? ", ... (" + names.size() + " in all)" : "");
    }

    /**
     * Module paths in natural order: split into runs of digits and of other characters; digit
     * runs compare as numbers, others as strings.
     */
    static final Comparator<String> NATURAL = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i), cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i, sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && Character.isDigit(b.charAt(j))) {
                    j++;
                }
                int c = new java.math.BigInteger(a.substring(si, i)).compareTo(new java.math.BigInteger(b.substring(sj, j)));
                if (c != 0) {
                    return c;
                }
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };
}
