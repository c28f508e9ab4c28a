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
 * @param eigenvalues how many of the normalized Laplacian's smallest eigenvalues to report
 *                   besides the clustering's k (0: none)
 * @param out        where the result is written (recorded in the command line); null: nowhere
 */
public record ClusterGraphRequest(Path graph, SelfLoops selfLoops, Duplicates duplicates, ClusterOptions options, int eigenvalues,
        Path out) {
    public ClusterGraphRequest {
        Objects.requireNonNull(graph, "graph");
        Objects.requireNonNull(selfLoops, "selfLoops");
        Objects.requireNonNull(duplicates, "duplicates");
        Objects.requireNonNull(options, "options");
    }

    /** With no extra eigenvalues. */
    public ClusterGraphRequest(Path graph, SelfLoops selfLoops, Duplicates duplicates, ClusterOptions options, Path out) {
        this(graph, selfLoops, duplicates, options, 0, out);
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
        if (eigenvalues > 0) {
            Provenance.add(a, "--eigenvalues", eigenvalues);
        }
        Provenance.addIfGiven(a, "--out", out);
        return a;
    }

    Provenance provenance() {
        return Provenance.of("cluster", arguments(), options.seed(), options.backend());
    }
}
