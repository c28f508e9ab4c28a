package dev.cleave.pipeline;

import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.SliceNorm;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.io.SafetensorsIntegrity;
import dev.cleave.io.StateDict;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Shape;
import dev.cleave.train.ModelFile;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A convolutional model file read as the weighted layers of its unit graph ({@link CnnLayer}):
 * a {@code cleave-net-v1} file (its {@code arch} and {@code input_shape} give the feature map
 * each linear layer after flatten reads) or a PyTorch {@code state_dict} with conv weights (read
 * by {@link StateDict}: weights by name and shape, each BatchNorm folded into the layer before
 * it with PyTorch's and Cleave's eps 1e-5). A state_dict does not say the feature map's height
 * and width: a square one is assumed (channels x h x h = in), which only the max-col-sum norm
 * depends on, and {@link #assumption} says so; where in / channels is not a square, the map is
 * unknown, and the max-col-sum norm of the first dense layer is refused.
 *
 * @param file        the model file
 * @param layers      the weighted layers, forward order (convs, then linears)
 * @param weightNames their weight tensors' names, layer by layer
 * @param summary     the line that says which tensors made the layers ("layers: 0.weight 16x1x3x3, ...")
 * @param assumption  what was assumed about a file Cleave did not write; null when nothing was
 * @param mapUnknown  whether the first linear layer's feature map is unknown (a state_dict whose
 *                    in / channels is not a square: read as 1 x (in / channels))
 * @param metadata    the file's metadata
 * @param indices     each layer's index as clusters record it ({@link dev.cleave.modular.LayerClusters#layer}):
 *                    the N of its weight's name {@code layers.N.weight} or {@code N.weight} (the module
 *                    index in the {@code nn.Sequential}, as modular training and circuits number a
 *                    network's layers) when every layer has one, else its position in the chain
 */
public record CnnModel(Path file, List<CnnLayer> layers, List<String> weightNames, String summary, String assumption,
        boolean mapUnknown, Map<String, String> metadata, List<Integer> indices) {
    /** BatchNorm's eps in PyTorch ({@code nn.BatchNorm2d}) and in Cleave's {@code bn} layer. */
    public static final double BATCHNORM_EPS = Layer.BatchNorm2d.EPS;

    public CnnModel {
        layers = List.copyOf(layers);
        weightNames = List.copyOf(weightNames);
        metadata = Map.copyOf(metadata);
        indices = List.copyOf(indices);
    }

    private static final java.util.regex.Pattern SEQUENTIAL = java.util.regex.Pattern.compile("(?:layers\\.)?(\\d{1,9})\\.weight");

    /** The N of each name layers.N.weight / N.weight when every name has one (distinct), else 0, 1, 2, ... */
    private static List<Integer> indices(List<String> weightNames) {
        List<Integer> out = new ArrayList<>();
        for (String name : weightNames) {
            java.util.regex.Matcher m = SEQUENTIAL.matcher(name);
            if (!m.matches()) {
                out = null;
                break;
            }
            int n = Integer.parseInt(m.group(1));
            if (out.contains(n)) {
                out = null;
                break;
            }
            out.add(n);
        }
        if (out == null) {
            out = new ArrayList<>();
            for (int l = 0; l < weightNames.size(); l++) {
                out.add(l);
            }
        }
        return out;
    }

    /** The chain position of the layer clusters call {@code index} ({@link #indices}); -1 when no layer has it. */
    public int position(int index) {
        return indices.indexOf(index);
    }

    /**
     * The CNN in {@code file}, or null when the file's layers are all linear (an MLP: read with
     * {@link ModelFile#load}). {@code chain} names a state_dict's layers (empty: found from the
     * names; ignored for Cleave's own files, whose names say the order).
     *
     * @throws InvalidInputException naming the file, what is wrong and how to fix it
     */
    public static CnnModel readIfCnn(Path file, List<String> chain) {
        SafetensorsFile f = Safetensors.read(file);
        String format = f.metadata().get("format");
        if (ModelFile.FORMAT.equals(format)) {
            return null;
        }
        boolean own = ModelFile.NET_FORMAT.equals(format);
        List<StateDict.Layer> found = StateDict.layers(f, own ? List.of() : chain);
        if (found.stream().noneMatch(l -> l.kind() == StateDict.Kind.CONV)) {
            return null;
        }
        SafetensorsIntegrity.requireFinite(file, f.tensors());
        Arch arch = null;
        if (own && f.metadata().get("arch") != null && f.metadata().get("input_shape") != null) {
            try {
                arch = Arch.parse(f.metadata().get("arch"), Shape.parse(f.metadata().get("input_shape")));
            } catch (InvalidInputException e) {
                throw new InvalidInputException(file + ": its arch metadata does not parse: " + e.getMessage(), e);
            }
        }
        List<CnnLayer> layers = new ArrayList<>();
        String guessed = null;
        boolean unknown = false;
        for (int l = 0; l < found.size(); l++) {
            StateDict.Layer s = found.get(l);
            CnnLayer layer = s.kind() == StateDict.Kind.CONV
                    ? CnnLayer.conv(s.out(), s.in(), (int) s.shape()[2], (int) s.shape()[3], s.weight())
                    : CnnLayer.linear(s.out(), s.in(), s.weight());
            if (s.kind() == StateDict.Kind.LINEAR && l > 0 && found.get(l - 1).kind() == StateDict.Kind.CONV) {
                int channels = found.get(l - 1).out();
                int spatial = s.in() / channels;
                int[] hw = arch != null ? featureMap(arch, s.module(), file) : null;
                if (hw == null) {
                    int side = (int) Math.round(Math.sqrt(spatial));
                    unknown = side * side != spatial;
                    hw = unknown ? new int[] {1, spatial} : new int[] {side, side};
                    guessed = s.weightName() + " reads the " + channels + " channels of " + found.get(l - 1).weightName()
                            + (unknown ? " with " + spatial + " values each" : " as a " + side + " x " + side + " feature map")
                            + " after flatten (NCHW)";
                }
                if (hw[0] * hw[1] * channels != s.in()) {
                    throw new InvalidInputException(file + ": " + s.describe() + " reads " + s.in() + " features, not the "
                            + channels + " channels x " + hw[0] + " x " + hw[1] + " its arch gives");
                }
                layer = layer.flattenedFrom(hw[0], hw[1]);
            }
            StateDict.BatchNorm bn = s.batchNorm();
            if (bn != null) {
                try {
                    layer = layer.withBatchNorm(bn.weight(), bn.runningVar(), BATCHNORM_EPS);
                } catch (InvalidInputException e) {
                    throw new InvalidInputException(file + ": " + bn.module() + ": " + e.getMessage(), e);
                }
            }
            layers.add(layer);
        }
        String assumption = own ? null : "assumed a CNN: the layers in this order, each BatchNorm folded into the layer"
                + " before it (eps " + BATCHNORM_EPS + ")" + (guessed == null ? "" : "; " + guessed);
        List<String> names = found.stream().map(StateDict.Layer::weightName).toList();
        return new CnnModel(file, layers, names, StateDict.summary(found), assumption, unknown, f.metadata(), indices(names));
    }

    /** The height and width of the feature map the linear layer {@code module} ("layers.N") reads, from the arch. */
    private static int[] featureMap(Arch arch, String module, Path file) {
        int at;
        try {
            at = Integer.parseInt(module.substring(module.lastIndexOf('.') + 1));
        } catch (NumberFormatException e) {
            return null;
        }
        for (int j = Math.min(at, arch.layers().size()) - 1; j >= 0; j--) {
            if (arch.layers().get(j) instanceof Layer.Flatten) {
                Shape s = arch.shape(j); // what the flatten reads: channels x height x width
                return new int[] {s.height(), s.width()};
            }
        }
        throw new InvalidInputException(file + ": the arch has no feature map before " + module);
    }

    /** The unit graph under {@code options}, errors naming the file. */
    public CnnUnitGraph graph(CnnGraphOptions options) {
        if (mapUnknown && options.norm() == SliceNorm.MAX_COL_SUM && options.edges() == CnnGraphOptions.Edges.UNITS) {
            throw new InvalidInputException(file + ": the max-col-sum norm of the first dense layer's blocks needs the height"
                    + " and width of the feature map it reads, which this state_dict does not give (" + assumption + "): use"
                    + " --slice-norm l1 or l2, or --edges f21 (conv-to-conv edges only)");
        }
        try {
            return CnnUnitGraph.build(layers, options);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The matrix co-clustering reads for weighted layer {@code l}: a conv's out x in channel
     * norms, the first linear's out x channels block norms, a later linear's |W| (batchnorms
     * folded), as the units graph weighs its edges.
     */
    public FloatMatrix unitMatrix(int l, SliceNorm norm) {
        CnnLayer layer = layers.get(l);
        if (layer.kind() == CnnLayer.Kind.LINEAR && layer.flattenHeight() > 0) {
            return graph(new CnnGraphOptions(norm, CnnGraphOptions.Edges.UNITS)).unitMatrices().get(l);
        }
        try {
            return CnnUnitGraph.channelNorms(layer, norm);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(file + ", " + weightNames.get(l) + ": " + e.getMessage(), e);
        }
    }

    /** Layer l's own weights (no batchnorm folded) as out x (units it reads x {@link #slice}), row-major as in the file. */
    public FloatMatrix weights(int l) {
        CnnLayer layer = layers.get(l);
        return new FloatMatrix(layer.out(), layer.weight().length / layer.out(), layer.weight());
    }

    /** Entries per (row, column) pair of layer l's weights: kh * kw, h * w of the first linear, else 1. */
    public int slice(int l) {
        CnnLayer layer = layers.get(l);
        return layer.kind() == CnnLayer.Kind.CONV ? layer.sliceLength()
                : layer.flattenHeight() > 0 ? layer.flattenHeight() * layer.flattenWidth() : 1;
    }
}
