package dev.cleave.train;

import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.io.SafetensorsIntegrity;
import dev.cleave.io.StateDict;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.nn.Shape;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained MLP as a safetensors file that PyTorch users can load: tensors
 * {@code layers.N.weight} (out x in, float32) and {@code layers.N.bias} (out), with metadata
 * {@code format} = {@value #FORMAT}, {@code widths}, {@code cleave_version} and the training
 * {@code config} as JSON. Writes are atomic.
 *
 * <p>A network off the MLP path ({@link Network}) is written in format {@value #NET_FORMAT}:
 * tensors {@code layers.<i>.weight|bias|running_mean|running_var} with {@code <i>} the layer's
 * index in the sequence (as {@code nn.Sequential} numbers its modules) in PyTorch's shapes
 * (conv weights out x in x k x k), metadata {@code arch} (the canonical layer list),
 * {@code input_shape} ("CxHxW"), {@code cleave_version} and {@code config}; PyTorch's
 * {@code load_state_dict} takes it as it is.
 */
public final class ModelFile {
    public static final String FORMAT = "cleave-mlp-v1";
    public static final String NET_FORMAT = "cleave-net-v1";

    /** A network read from a file, with the file's metadata; the caller closes it. */
    /**
     * A network read from a file, with the file's metadata; {@code layers} is the line saying
     * which tensors of a PyTorch state_dict made the arch's layers ("layers: conv1.weight
     * 16x1x3x3, fc1.weight 64x3136, ...") when they were matched by their chain rather than by
     * name, else null. The caller closes the network.
     */
    public record LoadedNetwork(Path path, Network network, Map<String, String> metadata, String layers) implements AutoCloseable {
        @Override
        public void close() {
            network.close();
        }
    }

    /** Whether {@code file} is in the network format (reads the whole file: use where it is read anyway). */
    public static boolean isNetworkFile(Path file) {
        return NET_FORMAT.equals(Safetensors.read(file).metadata().get("format"));
    }

    /**
     * Writes {@code network} (host memory) to {@code file} in {@value #NET_FORMAT}, atomically;
     * each batchnorm also gets PyTorch's {@code num_batches_tracked} (int64, shape []) =
     * {@code batchesTracked}, the training steps taken, so {@code load_state_dict} finds every key.
     */
    public static void save(Path file, Network network, TrainConfig config, Map<String, String> extra, long batchesTracked)
            throws IOException {
        LinkedHashMap<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (Network.Named n : network.tensors()) {
            tensors.put(n.name(), Safetensors.Tensor.ofFloats(n.spec().dims(), n.tensor().toArray()));
            if (n.spec().role() == Layer.Role.RUNNING_VAR) {
                tensors.put("layers." + n.layer() + ".num_batches_tracked", Safetensors.Tensor.ofLongs(new long[0],
                        new long[] {batchesTracked}));
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", NET_FORMAT);
        metadata.put("arch", network.arch().layerList());
        metadata.put("input_shape", inputShape(network.arch().input()));
        metadata.put("cleave_version", dev.cleave.util.Versions.cleave());
        if (config != null) {
            metadata.put("config", Json.write(config));
        }
        metadata.putAll(extra);
        Safetensors.write(file, tensors, metadata);
    }

    private static String inputShape(Shape s) {
        return s.channels() + "x" + s.height() + "x" + s.width();
    }

    /**
     * Reads a network: a {@value #NET_FORMAT} file (its arch and input shape from its metadata),
     * a {@value #FORMAT} file (read as the network flatten, linear, relu, ..., linear), or any
     * safetensors state_dict when {@code arch} describes it. A state_dict whose names are the
     * arch's own ({@code layers.N.weight}, or a bare {@code nn.Sequential}'s {@code N.weight})
     * is read by name; any other (named modules such as {@code conv1}, {@code fc1..fc4}) by its
     * layer chain ({@link StateDict#layers}; {@code chain} names it explicitly, empty: found
     * from the names): the chain's conv and linear layers become the arch's, in order, each
     * BatchNorm after a layer the arch's bn after it, and a bias the file lacks is zero.
     * {@code arch} (null: the file's) overrides the file's arch; {@code input} is the image shape
     * for a file that does not record one (the data's); a file's own shape wins, and evaluation
     * checks it against the data.
     *
     * @throws InvalidInputException naming the file and the missing, extra or misshapen tensor
     */
    public static LoadedNetwork loadNetwork(Path file, String arch, Shape input) {
        return loadNetwork(file, arch, input, List.of());
    }

    /** As {@link #loadNetwork(Path, String, Shape)}, with the state_dict's layer chain named by {@code chain}. */
    public static LoadedNetwork loadNetwork(Path file, String arch, Shape input, List<String> chain) {
        SafetensorsFile f = Safetensors.read(file);
        Map<String, String> meta = f.metadata();
        String format = meta.get("format");
        try {
            String fileShape = meta.get("input_shape");
            if (fileShape != null) {
                input = Shape.parse(fileShape);
            }
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(f.tensors());
            Arch a;
            if (arch != null) {
                a = Arch.parse(arch, input);
            } else if (meta.get("arch") != null) {
                a = Arch.parse(meta.get("arch"), input);
            } else if (FORMAT.equals(format)) {
                try (Loaded mlp = load(file)) {
                    a = Arch.mlp(mlp.model().widths(), input);
                }
                // cleave-mlp-v1 numbers the linear layers; the sequence puts flatten first and relus between
                Map<String, Safetensors.Tensor> renamed = new LinkedHashMap<>();
                for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
                    String[] p = e.getKey().split("\\.");
                    renamed.put("layers." + (1 + 2 * Integer.parseInt(p[1])) + "." + p[2], e.getValue());
                }
                tensors = renamed;
            } else {
                throw new InvalidInputException("the file does not say its architecture: give it with --arch");
            }
            if (!tensors.isEmpty() && tensors.keySet().stream().allMatch(k -> k.matches("\\d+\\..*"))) {
                Map<String, Safetensors.Tensor> prefixed = new LinkedHashMap<>(); // a bare nn.Sequential: 0.weight, ...
                tensors.forEach((k, v) -> prefixed.put("layers." + k, v));
                tensors = prefixed;
            }
            Map<String, float[]> values = new LinkedHashMap<>();
            Map<String, Network.Named> specs = new LinkedHashMap<>();
            for (Network.Named n : Network.specs(a)) {
                specs.put(n.name(), n);
            }
            boolean foreign = meta.get("arch") == null && !FORMAT.equals(format) && !NET_FORMAT.equals(format);
            boolean byName = tensors.keySet().stream().allMatch(k -> specs.containsKey(k) || k.endsWith(".num_batches_tracked"));
            if (foreign && (!chain.isEmpty() || !byName)) {
                List<StateDict.Layer> found = StateDict.layers(f, chain);
                SafetensorsIntegrity.requireFinite(file, f.tensors());
                return new LoadedNetwork(file, Network.fromValues(a, byChain(a, found)), Map.copyOf(meta),
                        StateDict.summary(found));
            }
            if (!chain.isEmpty()) {
                throw new InvalidInputException("--layers names the layers of a PyTorch state_dict; this file is Cleave's "
                        + "own and says its layers: leave --layers out");
            }
            for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
                Network.Named spec = specs.get(e.getKey());
                if (spec != null && !java.util.Arrays.equals(spec.spec().dims(), e.getValue().shape())) {
                    throw new InvalidInputException("tensor " + e.getKey() + " is " + java.util.Arrays.toString(e.getValue().shape())
                            + " but the arch " + a.layerList() + " needs " + java.util.Arrays.toString(spec.spec().dims()));
                }
                if (e.getKey().endsWith(".num_batches_tracked")) {
                    continue; // PyTorch's batchnorm counter: not used by momentum-based running statistics
                }
                values.put(e.getKey(), e.getValue().asFloats());
            }
            SafetensorsIntegrity.requireFinite(file, f.tensors());
            return new LoadedNetwork(file, Network.fromValues(a, values), Map.copyOf(meta), null);
        } catch (InvalidInputException e) {
            String m = e.getMessage();
            throw new InvalidInputException(m.startsWith(file.toString()) ? m : file + ": " + m, e);
        }
    }

    /** The arch's tensors from a state_dict's layer chain: conv and linear layers in order, bn from the layer before. */
    private static Map<String, float[]> byChain(Arch a, List<StateDict.Layer> found) {
        Map<String, float[]> values = new LinkedHashMap<>();
        int next = 0;
        StateDict.Layer last = null;
        for (int i = 0; i < a.layers().size(); i++) {
            Layer layer = a.layers().get(i);
            List<Layer.Param> params = layer.params(a.shape(i));
            if (layer instanceof Layer.Conv2d || layer instanceof Layer.Linear) {
                if (next == found.size()) {
                    throw new InvalidInputException("the arch " + a.layerList() + " has more conv and linear layers than the "
                            + "file's chain (" + StateDict.summary(found) + "): check --arch");
                }
                last = found.get(next++);
                Layer.Param w = params.get(0);
                if (!java.util.Arrays.equals(w.dims(), last.shape())) {
                    throw new InvalidInputException(last.describe() + " is the arch's layer " + i + " (" + layer.token()
                            + "), which needs " + dims(w.dims()) + ": check --arch (or the order, with --layers)");
                }
                values.put("layers." + i + ".weight", last.weight());
                if (params.size() > 1) {
                    values.put("layers." + i + ".bias", last.bias() != null ? last.bias() : new float[params.get(1).cols()]);
                } else if (last.bias() != null) {
                    throw new InvalidInputException(last.module() + ".bias is in the file but the arch's layer " + i + " ("
                            + layer.token() + ") has no bias: drop :nobias from --arch");
                }
            } else if (layer instanceof Layer.BatchNorm2d) {
                StateDict.BatchNorm bn = last == null ? null : last.batchNorm();
                if (bn == null) {
                    throw new InvalidInputException("the arch's layer " + i + " is bn but the file has no BatchNorm after "
                            + (last == null ? "its first layer" : last.weightName()) + ": check --arch");
                }
                float[][] v = {bn.weight(), bn.bias(), bn.runningMean(), bn.runningVar()};
                for (int p = 0; p < params.size(); p++) {
                    values.put("layers." + i + "." + params.get(p).name(), v[p]);
                }
            }
        }
        if (next < found.size()) {
            throw new InvalidInputException("the file's chain (" + StateDict.summary(found) + ") has more conv and linear "
                    + "layers than the arch " + a.layerList() + ": check --arch");
        }
        for (StateDict.Layer l : found) {
            if (l.batchNorm() != null && !values.containsValue(l.batchNorm().runningVar())) {
                throw new InvalidInputException(l.batchNorm().module() + " is a BatchNorm after " + l.weightName()
                        + " in the file but the arch " + a.layerList() + " has no bn there: add bn after that layer in --arch");
            }
        }
        return values;
    }

    private static String dims(long[] d) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < d.length; i++) {
            sb.append(i == 0 ? "" : "x").append(d[i]);
        }
        return sb.toString();
    }

    /**
     * A model read from a file, with the file's metadata. {@code layers} is the line that says
     * which tensors made the layers ("layers: fc1.weight 256x784, ..."); {@code weightNames} are
     * those tensors' names, layer by layer; {@code assumption} says what was assumed about a file
     * Cleave did not write (null for Cleave's own files). The caller closes the model.
     */
    public record Loaded(Path path, Mlp model, Map<String, String> metadata, String layers, List<String> weightNames,
            String assumption) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }

        /** The modular clusters recorded in the file (empty for a model trained without --modular). */
        public java.util.List<dev.cleave.modular.LayerClusters> clusters() {
            return RunDir.clustersOf(metadata);
        }

        /** The training config recorded in the file, or null when there is none. */
        public TrainConfig config() {
            String json = metadata.get("config");
            return json == null ? null : Json.read(json, TrainConfig.class);
        }
    }

    private ModelFile() {}

    /** Writes {@code model} to {@code file}, atomically; {@code extra} metadata is added (may be empty). */
    public static void save(Path file, Mlp model, TrainConfig config, Map<String, String> extra) throws IOException {
        LinkedHashMap<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        List<FloatMatrix> weights = model.weightMatrices();
        List<float[]> biases = model.biasVectors();
        for (int l = 0; l < model.layers(); l++) {
            tensors.put("layers." + l + ".weight", Safetensors.Tensor.of(weights.get(l)));
            tensors.put("layers." + l + ".bias", Safetensors.Tensor.ofFloats(new long[] {biases.get(l).length}, biases.get(l)));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", FORMAT);
        metadata.put("widths", joinWidths(model.widths()));
        metadata.put("cleave_version", dev.cleave.util.Versions.cleave());
        if (config != null) {
            metadata.put("config", Json.write(config));
        }
        metadata.putAll(extra);
        Safetensors.write(file, tensors, metadata);
    }

    /**
     * Reads a model file; every problem is an {@link InvalidInputException} naming the file,
     * including a weight or bias that is not finite (naming the tensor and the first bad index).
     */
    public static Loaded load(Path file) {
        return load(file, List.of());
    }

    /**
     * Reads a model file: Cleave's own format, or any PyTorch {@code state_dict} saved as
     * safetensors whose layers form a chain of linear layers (see {@link StateDict});
     * {@code chain} names the layers explicitly (empty: found from the names). A file Cleave did
     * not write is taken to be an MLP with ReLU after every layer but the last, and
     * {@link Loaded#assumption} says so.
     *
     * @throws InvalidInputException naming the file, what is wrong and how to fix it
     */
    public static Loaded load(Path file, List<String> chain) {
        SafetensorsFile f = Safetensors.read(file);
        boolean own = FORMAT.equals(f.metadata().get("format"));
        List<StateDict.Layer> layers = StateDict.layers(f, own ? List.of() : chain);
        for (StateDict.Layer l : layers) {
            if (l.kind() != StateDict.Kind.LINEAR) {
                throw new InvalidInputException(file + ": " + l.describe() + " is a convolution; this command reads "
                        + "networks of linear layers only (" + StateDict.summary(layers) + ")");
            }
            if (l.batchNorm() != null) {
                throw new InvalidInputException(file + ": " + l.batchNorm().module() + " is a BatchNorm after "
                        + l.weightName() + "; this command reads networks of linear layers only");
            }
        }
        if (own && f.tensors().size() != 2 * layers.size()) {
            throw new InvalidInputException(file + ": expected exactly layers.N.weight and layers.N.bias for N = 0.."
                    + (layers.size() - 1) + ", found " + f.tensors().keySet());
        }
        List<FloatMatrix> weights = new ArrayList<>();
        List<float[]> biases = new ArrayList<>();
        for (StateDict.Layer l : layers) {
            if (own && l.bias() == null) {
                throw new InvalidInputException(file + ": " + l.module() + ".bias is missing");
            }
            weights.add(new FloatMatrix(l.out(), l.in(), l.weight()));
            biases.add(l.bias() != null ? l.bias() : new float[l.out()]);
        }
        String assumption = null;
        if (!own) {
            long missing = layers.stream().filter(l -> l.bias() == null).count();
            assumption = "assumed an MLP: ReLU after every linear layer but the last"
                    + (missing > 0 ? "; " + missing + " layer(s) without a bias read as bias 0" : "");
        }
        SafetensorsIntegrity.requireFinite(file, f.tensors());
        try {
            return new Loaded(file, Mlp.fromMatrices(weights, biases), Map.copyOf(f.metadata()), StateDict.summary(layers),
                    layers.stream().map(StateDict.Layer::weightName).toList(),
                    assumption);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The error for a model whose outputs are not finite although its weights are (e.g. weights
     * near 3e38, which overflow in the first product): a problem of the model file, not of
     * training, so the message names the file and its largest weight.
     */
    public static InvalidInputException nonFiniteOutputs(Path file, Mlp model, ArithmeticException cause) {
        double largest = 0;
        String where = "";
        List<FloatMatrix> weights = model.weightMatrices();
        List<float[]> biases = model.biasVectors();
        for (int l = 0; l < model.layers(); l++) {
            for (float v : weights.get(l).data()) {
                if (Math.abs(v) > largest) {
                    largest = Math.abs(v);
                    where = "layers." + l + ".weight";
                }
            }
            for (float v : biases.get(l)) {
                if (Math.abs(v) > largest) {
                    largest = Math.abs(v);
                    where = "layers." + l + ".bias";
                }
            }
        }
        return new InvalidInputException(file + ": the model's outputs overflow to non-finite values (largest |value| "
                + String.format("%.3g", largest) + " in " + where + "): the file is damaged or was saved from a diverged "
                + "run; use another model file", cause);
    }

    static String joinWidths(int[] widths) {
        StringBuilder sb = new StringBuilder();
        for (int w : widths) {
            sb.append(sb.length() == 0 ? "" : "-").append(w);
        }
        return sb.toString();
    }

}
