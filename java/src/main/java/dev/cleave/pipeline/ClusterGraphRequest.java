package dev.cleave.pipeline;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.graph.Duplicates;
import dev.cleave.graph.SelfLoops;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Cluster any weighted graph from a Matrix Market file: what {@code cleave cluster --graph
 * FILE.mtx} asks {@link Pipeline#clusterGraph} for.
 *
 * @param graph      the .mtx file
 * @param selfLoops  what to do with diagonal entries
 * @param duplicates what to do with an entry given more than once
 * @param options    the clustering options (device and seed included)
 * @param out        where the result is written (recorded in the command line); null: nowhere
 */
public record ClusterGraphRequest(Path graph, SelfLoops selfLoops, Duplicates duplicates, ClusterOptions options, Path out) {
    public ClusterGraphRequest {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(selfLoops, "selfLoops");
        Objects.requireNonNull(duplicates, "duplicates");
        Objects.requireNonNull(options, "options");
    }

    /** The options as {@code cleave cluster} words. */
    List<String> arguments() {
        List<String> a = new ArrayList<>();
        Provenance.add(a, "--graph", graph);
        Provenance.add(a, "--self-loops", selfLoops);
        Provenance.add(a, "--duplicates", duplicates);
        Provenance.add(a, "--k", options.k());
        Provenance.add(a, "--n-init", options.nInit());
        Provenance.add(a, "--tolerance", options.tolerance());
        Provenance.addIfGiven(a, "--out", out);
        return a;
    }

    Provenance provenance() {
        return Provenance.of("cluster", arguments(), options.seed(), options.backend());
    }
}
