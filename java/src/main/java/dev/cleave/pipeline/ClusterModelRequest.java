package dev.cleave.pipeline;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.graph.CnnGraphOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Cluster a model's network graph (F21) and, with {@code shuffles > 0}, run the shuffle test:
 * what {@code cleave cluster MODEL} asks {@link Pipeline#clusterModel} for.
 *
 * @param model    the model file (safetensors)
 * @param chain    the model's layers by weight or module name, first layer first; empty: found
 *                 from the tensor names
 * @param options  the clustering options; their device ({@link ClusterOptions#backend()}) and
 *                 seed are the run's
 * @param shuffles shuffle-test shuffles, 0 for none
 * @param method   the shuffle null model
 * @param eigenvalues how many of the normalized Laplacian's smallest eigenvalues to report
 *                 besides the clustering's k (0: none)
 * @param graph    for a CNN, how its unit graph is built; null: the defaults for a CNN
 *                 ({@link CnnGraphOptions#defaults()}), and for an MLP nothing (an MLP given
 *                 graph options is an error). A run records the options it used.
 * @param out      where the result is written (recorded in the command line); null: nowhere
 */
public record ClusterModelRequest(Path model, List<String> chain, ClusterOptions options, int shuffles, ShuffleMethod method,
        int eigenvalues, CnnGraphOptions graph, Path out) {
    public ClusterModelRequest {
        Objects.requireNonNull(model, "model");
        chain = chain == null ? List.of() : List.copyOf(chain);
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(method, "method");
    }

    /** With the layers found from the tensor names and no extra eigenvalues. */
    public ClusterModelRequest(Path model, ClusterOptions options, int shuffles, ShuffleMethod method, Path out) {
        this(model, List.of(), options, shuffles, method, 0, null, out);
    }

    /** Without graph options (an MLP, or a CNN's default unit graph). */
    public ClusterModelRequest(Path model, List<String> chain, ClusterOptions options, int shuffles, ShuffleMethod method,
            int eigenvalues, Path out) {
        this(model, chain, options, shuffles, method, eigenvalues, null, out);
    }

    /** This request with the CNN graph options it ran with. */
    ClusterModelRequest withGraph(CnnGraphOptions g) {
        return new ClusterModelRequest(model, chain, options, shuffles, method, eigenvalues, g, out);
    }

    /** The options as {@code cleave cluster} words. */
    List<String> arguments() {
        List<String> a = new ArrayList<>(List.of(model.toString()));
        if (!chain.isEmpty()) {
            Provenance.add(a, "--layers", String.join(",", chain));
        }
        Provenance.add(a, "--k", options.k());
        Provenance.add(a, "--n-init", options.nInit());
        Provenance.add(a, "--tolerance", options.tolerance());
        Provenance.add(a, "--shuffles", shuffles);
        if (shuffles > 0) {
            Provenance.add(a, "--shuffle-method", method);
        }
        if (eigenvalues > 0) {
            Provenance.add(a, "--eigenvalues", eigenvalues);
        }
        if (graph != null) {
            Provenance.add(a, "--slice-norm", graph.norm());
            Provenance.add(a, "--edges", graph.edges());
        }
        Provenance.addIfGiven(a, "--out", out);
        return a;
    }

    Provenance provenance() {
        return Provenance.of("cluster", arguments(), options.seed(), options.backend());
    }
}
