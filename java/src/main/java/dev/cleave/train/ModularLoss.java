package dev.cleave.train;

import dev.cleave.modular.BalancedPartition;
import dev.cleave.modular.Enmeshment;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Tensor;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.collections.api.list.primitive.ImmutableIntList;

/**
 * The enmeshment loss term of modular training: -lambda * mean over the chosen layers of C(W).
 * Clusters are assigned once (after the warm-up) and then fixed; each step adds
 * -lambda / layers * dC/dW to each chosen layer's weight gradient.
 */
final class ModularLoss implements AutoCloseable {
    private final ModularOptions options;
    private final Mlp model;
    private final ImmutableIntList layers;
    private final List<Enmeshment> ops = new ArrayList<>();
    private final List<LayerClusters> clusters = new ArrayList<>();

    ModularLoss(ModularOptions options, Mlp model) {
        this.options = options;
        this.model = model;
        this.layers = options.layerIndices(model.layers());
    }

    boolean assigned() {
        return !ops.isEmpty();
    }

    List<LayerClusters> clusters() {
        return List.copyOf(clusters);
    }

    /** Assigns each chosen layer's clusters from its current weights, as {@code options.assign()} says. */
    void assign(Backend backend, long seed) {
        List<LayerClusters> assigned = new ArrayList<>();
        layers.forEach(l -> {
            Tensor w = model.weight(l);
            assigned.add(switch (options.assign()) {
                case "balanced" -> new LayerClusters(l, options.k(), BalancedPartition.labels(w.rows(), options.k()),
                        BalancedPartition.labels(w.cols(), options.k()));
                default -> Assignments.cocluster(l, w.toMatrix(), options.k(), options.assign().equals("cocluster-compat"), seed,
                        backend.device());
            });
        });
        restore(assigned);
    }

    /** Uses the given clusters (from a checkpoint). */
    void restore(List<LayerClusters> given) {
        close();
        for (LayerClusters c : given) {
            Tensor w = model.weight(c.layer());
            if (c.rows() != w.rows() || c.cols() != w.cols() || !layers.contains(c.layer())) {
                throw new InvalidInputException("saved clusters for layer " + c.layer() + " (" + c.rows() + " x " + c.cols()
                        + ") do not fit this run's modular layers " + layers);
            }
            clusters.add(c);
            ops.add(new Enmeshment(c.rows(), c.cols(), c.k(), c.rowLabels(), c.colLabels()));
        }
    }

    void addGradients(Backend backend, MlpPass pass) {
        float scale = -options.lambda() / ops.size();
        for (int i = 0; i < ops.size(); i++) {
            int l = clusters.get(i).layer();
            backend.enmeshment(model.weight(l), ops.get(i), scale, pass.weightGrad(l));
        }
    }

    /** C of each clustered layer, keyed "layers.N.weight". */
    Map<String, Double> clusterability(Backend backend) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            int l = clusters.get(i).layer();
            out.put("layers." + l + ".weight", backend.enmeshment(model.weight(l), ops.get(i), 0f, null));
        }
        return out;
    }

    @Override
    public void close() {
        ops.forEach(Enmeshment::close);
        ops.clear();
        clusters.clear();
    }
}
