package dev.cleave.train;

import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.SliceNorm;
import dev.cleave.modular.BalancedPartition;
import dev.cleave.modular.ChannelClusters;
import dev.cleave.modular.Enmeshment;
import dev.cleave.modular.LayerClusters;
import dev.cleave.modular.NetworkLayers;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Network;
import dev.cleave.nn.NetworkPass;
import dev.cleave.nn.Tensor;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The enmeshment loss term of modular training: -lambda * mean over the chosen layers of C(W).
 * Clusters are assigned once (after the warm-up) and then fixed; each step adds
 * -lambda / layers * dC/dW to each chosen layer's weight gradient. The layers are an MLP's
 * weight matrices or a network's linear and conv layers ({@link NetworkLayers}); a conv
 * layer's clusters pair output with input channels and C counts whole kernel slices. Each
 * clustered layer is known by the N of its weight's name layers.N.weight (the weight layer's
 * index in an MLP, the module index in a network), which is what {@link LayerClusters#layer}
 * holds.
 */
final class ModularLoss implements AutoCloseable {
    /**
     * One chosen layer: its index N (of layers.N.weight), weight and gradient tensors (rows x
     * cols * slice), and for a conv its kernel side (0 for a matrix).
     */
    private record Target(int layer, Tensor weight, Tensor grad, int cols, int slice, int kernel) {
        boolean conv() {
            return kernel > 0;
        }
    }

    private final ModularOptions options;
    private final List<Target> targets = new ArrayList<>();
    private final List<Enmeshment> ops = new ArrayList<>();
    private final List<LayerClusters> clusters = new ArrayList<>();

    private ModularLoss(ModularOptions options) {
        this.options = options;
    }

    /** The loss on an MLP's chosen weight matrices, their gradients in {@code pass}. */
    static ModularLoss of(ModularOptions options, Mlp model, MlpPass pass) {
        ModularLoss m = new ModularLoss(options);
        options.layerIndices(model.layers()).forEach(l -> m.targets.add(new Target(l, model.weight(l), pass.weightGrad(l),
                model.weight(l).cols(), 1, 0)));
        return m;
    }

    /** The loss on a network's chosen conv and linear layers, their gradients in {@code pass}. */
    static ModularLoss of(ModularOptions options, Network network, NetworkPass pass) {
        ModularLoss m = new ModularLoss(options);
        List<Network.Named> tensors = network.tensors();
        for (NetworkLayers.WeightLayer w : options.networkLayers(network.arch())) {
            int at = -1;
            for (int i = 0; i < tensors.size(); i++) {
                if (tensors.get(i).name().equals(w.weightName())) {
                    at = i;
                }
            }
            if (at < 0) {
                throw new IllegalStateException("the network has no tensor " + w.weightName());
            }
            m.targets.add(new Target(w.module(), tensors.get(at).tensor(), pass.gradients().get(at), w.cols(), w.slice(),
                    w.conv() ? w.kernel() : 0));
        }
        return m;
    }

    boolean assigned() {
        return !ops.isEmpty();
    }

    List<LayerClusters> clusters() {
        return List.copyOf(clusters);
    }

    /**
     * Assigns each chosen layer's clusters from its current weights, as {@code options.assign()}
     * says: balanced partitions, or co-clustering of |W| (a matrix) or of the out x in matrix of
     * kernel-slice L1 norms sum |K[j, i, :, :]| (a conv: the channel-norm matrix under the CNN
     * unit graph's default norm).
     */
    void assign(Backend backend, long seed) {
        List<LayerClusters> assigned = new ArrayList<>();
        boolean compat = options.assign().equals("cocluster-compat");
        for (Target t : targets) {
            int rows = t.weight().rows();
            if (options.assign().equals("balanced")) {
                assigned.add(new LayerClusters(t.layer(), options.k(), BalancedPartition.labels(rows, options.k()),
                        BalancedPartition.labels(t.cols(), options.k())));
            } else if (t.conv()) {
                CnnLayer conv = CnnLayer.conv(rows, t.cols(), t.kernel(), t.kernel(), t.weight().toArray());
                assigned.add(ChannelClusters.cocluster(t.layer(), conv, SliceNorm.L1, options.k(), compat, seed, backend.device()));
            } else {
                assigned.add(Assignments.cocluster(t.layer(), t.weight().toMatrix(), options.k(), compat, seed, backend.device()));
            }
        }
        restore(assigned);
    }

    /** Uses the given clusters (from a checkpoint). */
    void restore(List<LayerClusters> given) {
        close();
        for (LayerClusters c : given) {
            Target t = targets.stream().filter(x -> x.layer() == c.layer()).findFirst().orElse(null);
            if (t == null || c.rows() != t.weight().rows() || c.cols() != t.cols()) {
                throw new InvalidInputException("saved clusters for layer " + c.layer() + " (" + c.rows() + " x " + c.cols()
                        + ") do not fit this run's modular layers " + targets.stream().map(Target::layer).toList());
            }
            clusters.add(c);
            ops.add(new Enmeshment(c.rows(), c.cols(), t.slice(), c.k(), c.rowLabels(), c.colLabels()));
        }
    }

    /** Adds -lambda / layers * dC/dW into each clustered layer's weight gradient. */
    void addGradients(Backend backend) {
        float scale = -options.lambda() / ops.size();
        for (int i = 0; i < ops.size(); i++) {
            Target t = target(clusters.get(i).layer());
            backend.enmeshment(t.weight(), ops.get(i), scale, t.grad());
        }
    }

    /** C of each clustered layer, keyed "layers.N.weight". */
    Map<String, Double> clusterability(Backend backend) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            int l = clusters.get(i).layer();
            out.put("layers." + l + ".weight", backend.enmeshment(target(l).weight(), ops.get(i), 0f, null));
        }
        return out;
    }

    private Target target(int layer) {
        for (Target t : targets) {
            if (t.layer() == layer) {
                return t;
            }
        }
        throw new IllegalStateException("no modular layer " + layer);
    }

    @Override
    public void close() {
        ops.forEach(Enmeshment::close);
        ops.clear();
        clusters.clear();
    }
}
