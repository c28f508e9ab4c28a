package dev.cleave.pipeline;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ShuffleMethod;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Cluster a model's network graph (F21) and, with {@code shuffles > 0}, run the shuffle test:
 * what {@code cleave cluster MODEL} asks {@link Pipeline#clusterModel} for.
 *
 * @param model    the model file (safetensors)
 * @param options  the clustering options; their device ({@link ClusterOptions#backend()}) and
 *                 seed are the run's
 * @param shuffles shuffle-test shuffles, 0 for none
 * @param method   the shuffle null model
 * @param out      where the result is written (recorded in the command line); null: nowhere
 */
public record ClusterModelRequest(Path model, ClusterOptions options, int shuffles, ShuffleMethod method, Path out) {
    public ClusterModelRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(method, "method");
    }

    /** The options as {@code cleave cluster} words. */
    List<String> arguments() {
        List<String> a = new ArrayList<>(List.of(model.toString()));
        Provenance.add(a, "--k", options.k());
        Provenance.add(a, "--n-init", options.nInit());
        Provenance.add(a, "--tolerance", options.tolerance());
        Provenance.add(a, "--shuffles", shuffles);
        if (shuffles > 0) {
            Provenance.add(a, "--shuffle-method", method);
        }
        Provenance.addIfGiven(a, "--out", out);
        return a;
    }

    Provenance provenance() {
        return Provenance.of("cluster", arguments(), options.seed(), options.backend());
    }
}
