package dev.cleave.graph;

import dev.cleave.graph.CnnLayer.Kind;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The unit graph of a convolutional network: nodes are units (input channels, conv output
 * channels, dense neurons), edges join units of consecutive layers. Per weighted layer, with
 * every batchnorm first folded into the layer before it (row j scaled by gamma[j] /
 * sqrt(running_var[j] + eps)):
 *
 * <ul>
 *   <li>conv (out, in, kh, kw): edge (in-channel i, out-channel j) = norm of K[j, i, :, :];
 *   <li>the first linear after the last conv, reading C channels of height x width after
 *       flatten: edge (channel i, neuron j) = norm of the height x width block of W[j, :] that
 *       reads channel i;
 *   <li>linear after linear: |w|.
 * </ul>
 *
 * The norm is {@link SliceNorm} (default the entrywise L1 sum). {@link CnnGraphOptions.Edges#F21}
 * keeps only the conv-to-conv edges: its nodes are the output channels of every conv, and the
 * input and the dense layers are left out (F21's CNN graph).
 *
 * <p>The result is a layered graph like an MLP's: per unit layer pair a non-negative
 * out x in <i>unit matrix</i> ({@link #unitMatrices()}), from which {@link #network()} builds a
 * {@link NetworkGraph} (units of zero or negligible degree removed and reported, CSR form, the fast spectral
 * path), so everything that clusters an MLP's graph clusters this one. The shuffle test of a
 * CNN shuffles these unit matrices (as F21 did). Immutable and thread-safe; the layers given
 * are not modified or retained.
 */
public final class CnnUnitGraph {
    /** One layer of units of the graph. */
    public record UnitLayer(String name, int source, int units) {
        /**
         * @param name   "input" for the input channels, else the kind and index of the weighted
         *               layer whose outputs these units are ("conv 0", "linear 3")
         * @param source index of that weighted layer in the list given, -1 for the input
         * @param units  units in the layer, removed ones included
         */
        public UnitLayer {}
    }

    private final List<FloatMatrix> unitMatrices;
    private final List<UnitLayer> unitLayers;
    private final NetworkGraph network;
    private final CnnGraphOptions options;

    private CnnUnitGraph(List<FloatMatrix> unitMatrices, List<UnitLayer> unitLayers, NetworkGraph network,
            CnnGraphOptions options) {
        this.unitMatrices = unitMatrices;
        this.unitLayers = unitLayers;
        this.network = network;
        this.options = options;
    }

    /**
     * Builds the unit graph of the weighted layers given in forward order.
     *
     * @throws InvalidInputException if the list is empty, the layers do not chain (a conv's in
     *     is not the previous conv's out, a conv after a linear, a first linear whose in is not
     *     channels x height x width), a weight is not finite, a folded norm overflows, every
     *     edge weighs 0, or {@link CnnGraphOptions.Edges#F21} is asked of fewer than two convs
     */
    public static CnnUnitGraph build(List<CnnLayer> layers, CnnGraphOptions options) {
        if (options == null) {
            throw new InvalidInputException("CNN graph options must not be null");
        }
        validate(layers);
        boolean f21 = options.edges() == CnnGraphOptions.Edges.F21;
        int convs = 0;
        while (convs < layers.size() && layers.get(convs).kind() == Kind.CONV) {
            convs++;
        }
        if (f21 && convs < 2) {
            throw new InvalidInputException("F21's CNN graph keeps only conv-to-conv edges: it needs at least two conv"
                    + " layers, got " + convs + "; use the units graph (every layer) instead");
        }
        int first = f21 ? 1 : 0;
        int last = f21 ? convs : layers.size();
        List<FloatMatrix> matrices = new ArrayList<>(last - first);
        List<UnitLayer> unitLayers = new ArrayList<>(last - first + 1);
        unitLayers.add(f21 ? new UnitLayer(name(layers, 0), 0, layers.get(0).out())
                : new UnitLayer("input", -1, layers.get(0).in()));
        for (int l = first; l < last; l++) {
            matrices.add(unitMatrix(layers, l, options.norm()));
            unitLayers.add(new UnitLayer(name(layers, l), l, layers.get(l).out()));
        }
        NetworkGraph network;
        try {
            network = NetworkGraph.fromWeights(matrices);
        } catch (InvalidInputException e) {
            throw new InvalidInputException("the unit graph of this CNN: " + e.getMessage());
        }
        return new CnnUnitGraph(Collections.unmodifiableList(matrices), Collections.unmodifiableList(unitLayers), network,
                options);
    }

    /**
     * The out x in matrix of channel norms of one conv layer (its batchnorm folded), or the
     * |w| matrix of a linear layer: what co-clustering and the enmeshment loss's assignment
     * of a conv layer read.
     */
    public static FloatMatrix channelNorms(CnnLayer layer, SliceNorm norm) {
        if (layer == null || norm == null) {
            throw new InvalidInputException("channel norms need a layer and a norm, got null");
        }
        checkFinite(layer, 0);
        return slices(layer, layer.in(), layer.kind() == Kind.CONV ? layer.shape()[2] : 1,
                layer.kind() == Kind.CONV ? layer.shape()[3] : 1, norm, 0);
    }

    private static String name(List<CnnLayer> layers, int l) {
        return layers.get(l).kind() + " " + l;
    }

    private static void validate(List<CnnLayer> layers) {
        if (layers == null || layers.isEmpty()) {
            throw new InvalidInputException("a CNN graph needs at least one weighted layer, got none");
        }
        for (int l = 0; l < layers.size(); l++) {
            CnnLayer layer = layers.get(l);
            if (layer == null) {
                throw new InvalidInputException("CNN layer " + l + " is null");
            }
            checkFinite(layer, l);
            if (l == 0) {
                if (layer.flattenHeight() > 0) {
                    throw new InvalidInputException("layer 0 is given a flatten size, but no conv layer comes before it");
                }
                continue;
            }
            CnnLayer prev = layers.get(l - 1);
            if (layer.kind() == Kind.CONV) {
                if (prev.kind() != Kind.CONV) {
                    throw new InvalidInputException("layer " + l + " is a conv after a linear layer; a CNN's convs come first");
                }
                if (layer.in() != prev.out()) {
                    throw new InvalidInputException("layer " + l + " (conv) reads " + layer.in() + " channels but layer "
                            + (l - 1) + " has " + prev.out() + " outputs: consecutive layers must chain");
                }
            } else if (prev.kind() == Kind.CONV) {
                long spatial = layer.flattenHeight() > 0 ? (long) layer.flattenHeight() * layer.flattenWidth() : 1;
                if (layer.in() != prev.out() * spatial) {
                    String given = layer.flattenHeight() > 0 ? layer.flattenHeight() + " x " + layer.flattenWidth()
                            : "none given, so 1 x 1";
                    throw new InvalidInputException("layer " + l + " (linear) reads " + layer.in() + " features after the "
                            + prev.out() + " channels of layer " + (l - 1) + " (conv) with a feature map of " + given
                            + ": give the height x width it reads after flatten, with channels x height x width = in");
                }
            } else {
                if (layer.flattenHeight() > 0) {
                    throw new InvalidInputException("layer " + l + " (linear) is given a flatten size, but it follows a linear"
                            + " layer; only the first linear after a conv reads a flattened feature map");
                }
                if (layer.in() != prev.out()) {
                    throw new InvalidInputException("layer " + l + " (linear) reads " + layer.in() + " inputs but layer "
                            + (l - 1) + " has " + prev.out() + " outputs: consecutive layers must chain");
                }
            }
        }
    }

    private static void checkFinite(CnnLayer layer, int l) {
        float[] w = layer.weight();
        for (int e = 0; e < w.length; e++) {
            if (!Float.isFinite(w[e])) {
                throw new InvalidInputException("layer " + l + " (" + layer.kind() + ") weight entry " + e + " is " + w[e]
                        + "; a CNN graph needs finite weights");
            }
        }
    }

    // The unit matrix of weighted layer l (its outputs x the units of the layer before).
    private static FloatMatrix unitMatrix(List<CnnLayer> layers, int l, SliceNorm norm) {
        CnnLayer layer = layers.get(l);
        if (layer.kind() == Kind.CONV) {
            int[] s = layer.shape();
            return slices(layer, s[1], s[2], s[3], norm, l);
        }
        if (l > 0 && layers.get(l - 1).kind() == Kind.CONV) {
            int h = Math.max(layer.flattenHeight(), 1);
            int w = Math.max(layer.flattenWidth(), 1);
            return slices(layer, layers.get(l - 1).out(), h, w, norm, l);
        }
        return slices(layer, layer.in(), 1, 1, norm, l);
    }

    // Row j, column i = |scale_j| * norm of the kh x kw slice of row j that reads unit i, where
    // row j holds units x kh x kw values (a conv kernel, or a dense row after flatten).
    private static FloatMatrix slices(CnnLayer layer, int units, int kh, int kw, SliceNorm norm, int l) {
        float[] w = layer.weight();
        int out = layer.out();
        int slice = kh * kw;
        float[] m = new float[out * units];
        for (int j = 0; j < out; j++) {
            double scale = layer.batchNorm() == null ? 1.0 : Math.abs(layer.batchNorm().scale(j));
            for (int i = 0; i < units; i++) {
                double v = scale * norm.of(w, (j * units + i) * slice, kh, kw, kw);
                float f = (float) v;
                if (!Float.isFinite(f)) {
                    throw new InvalidInputException("layer " + l + " (" + layer.kind() + "): the " + norm + " norm of the"
                            + " slice (" + j + ", " + i + ") is " + v + " after folding its batchnorm, too large for a float");
                }
                m[j * units + i] = f;
            }
        }
        return new FloatMatrix(out, units, m);
    }

    /** The unit matrices in forward order: matrix l maps unit layer l to unit layer l + 1 (copies). */
    public List<FloatMatrix> unitMatrices() {
        List<FloatMatrix> copy = new ArrayList<>(unitMatrices.size());
        for (FloatMatrix m : unitMatrices) {
            copy.add(m.copy());
        }
        return copy;
    }

    /** The unit layers, in the graph's layer order (RemovedNode.layer() indexes this list). */
    public List<UnitLayer> unitLayers() {
        return unitLayers;
    }

    /** The layered graph of the unit matrices: units of zero or negligible degree removed, CSR form, clustering. */
    public NetworkGraph network() {
        return network;
    }

    /** The same graph (kept units only) in CSR form. */
    public CsrGraph toCsr() {
        return network.toCsr();
    }

    /** Units of degree 0, left out of the graph (their layer indexes {@link #unitLayers()}). */
    public List<RemovedNode> removedNodes() {
        return network.removedNodes();
    }

    /** A removed unit in words: "conv 2 channel 17". */
    public String describe(RemovedNode node) {
        UnitLayer u = unitLayers.get(node.layer());
        String unit = u.source() >= 0 && u.name().startsWith("linear") ? " neuron " : " channel ";
        return u.name() + unit + node.index();
    }

    public CnnGraphOptions options() {
        return options;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("CnnUnitGraph[").append(options.edges()).append(", ").append(options.norm())
                .append(", units");
        for (UnitLayer u : unitLayers) {
            b.append(' ').append(u.units());
        }
        return b.append(", nodes=").append(network.nodes()).append(", edges=").append(network.edges()).append(", removed=")
                .append(network.removedNodes().size()).append(']').toString();
    }
}
