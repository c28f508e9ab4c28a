package dev.cleave.train;

import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.io.SafetensorsIntegrity;
import dev.cleave.nn.Mlp;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained MLP as a safetensors file that PyTorch users can load: tensors
 * {@code layers.N.weight} (out x in, float32) and {@code layers.N.bias} (out), with metadata
 * {@code format} = {@value #FORMAT}, {@code widths}, {@code cleave_version} and the training
 * {@code config} as JSON. Writes are atomic.
 */
public final class ModelFile {
    public static final String FORMAT = "cleave-mlp-v1";

    /** A model read from a file, with the file's metadata. The caller closes the model. */
    public record Loaded(Path path, Mlp model, Map<String, String> metadata) implements AutoCloseable {
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
        SafetensorsFile f = Safetensors.read(file);
        int layers = 0;
        while (f.tensors().containsKey("layers." + layers + ".weight")) {
            layers++;
        }
        if (layers == 0) {
            throw new InvalidInputException(file + ": not a Cleave MLP: no tensor named layers.0.weight (found "
                    + f.tensors().keySet() + ")");
        }
        if (f.tensors().size() != 2 * layers) {
            throw new InvalidInputException(file + ": expected exactly layers.N.weight and layers.N.bias for N = 0.."
                    + (layers - 1) + ", found " + f.tensors().keySet());
        }
        List<FloatMatrix> weights = new ArrayList<>();
        List<float[]> biases = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            Safetensors.Tensor w = f.tensor("layers." + l + ".weight");
            Safetensors.Tensor b = f.tensors().get("layers." + l + ".bias");
            if (b == null) {
                throw new InvalidInputException(file + ": layers." + l + ".bias is missing");
            }
            if (b.dtype() != Safetensors.DType.F32 || b.shape().length != 1) {
                throw new InvalidInputException(file + ": layers." + l + ".bias must be a 1-D F32 tensor, got "
                        + b.dtype() + " " + Arrays.toString(b.shape()));
            }
            weights.add(w.asMatrix());
            biases.add(b.asFloats());
        }
        SafetensorsIntegrity.requireFinite(file, f.tensors());
        try {
            return new Loaded(file, Mlp.fromMatrices(weights, biases), Map.copyOf(f.metadata()));
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
