package dev.cleave.cluster;

import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.graph.RemovedNode;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;

/**
 * Spectral clustering exactly as Filan et al. (2021) ran it: the k eigenvectors of the
 * normalized Laplacian with the smallest eigenvalues (the trivial one included), each row
 * divided by sqrt(degree) (the random-walk embedding), k-means++ with nInit restarts, the lowest
 * inertia kept; labels canonical (clusters numbered by their smallest node). Nodes of degree 0
 * are left out and reported (label -1); other disconnected parts are clustered like any graph
 * (each component's indicator is an eigenvector of eigenvalue 0) and counted in the result.
 *
 * <pre>{@code
 * CsrGraph g = MatrixMarket.read(Path.of("graph.mtx"));
 * ClusterResult r = SpectralClustering.cluster(g, ClusterOptions.defaults().withK(8));
 * System.out.println(r.ncut() + " " + Arrays.toString(r.labels()));
 * }</pre>
 *
 * Thread-safe; inputs are never modified.
 */
public final class SpectralClustering {
    private SpectralClustering() {}

    /** Clusters an arbitrary graph. */
    public static ClusterResult cluster(CsrGraph graph, ClusterOptions options) {
        long t0 = System.nanoTime();
        int[] isolated = graph.isolatedNodes();
        checkIsolated(isolated, graph.nodes(), options, "node");
        List<RemovedNode> removed = new ArrayList<>(isolated.length);
        for (int v : isolated) {
            removed.add(new RemovedNode(v, 0, v));
        }
        int[] kept = complement(isolated, graph.nodes());
        CsrGraph g = isolated.length == 0 ? graph : graph.inducedSubgraph(kept);
        checkK(options.k(), g.nodes(), isolated.length);
        return run(GraphOperator.of(g), g.degrees(), g::cutWeights, graph.nodes(), g.edges(), kept, removed,
                g.components().count(), options, t0);
    }

    /** Clusters the graph of a network, layer by layer (the fast path for MLPs). */
    public static ClusterResult cluster(NetworkGraph graph, ClusterOptions options) {
        long t0 = System.nanoTime();
        checkK(options.k(), graph.nodes(), graph.removedNodes().size());
        if (options.isolatedNodes() == IsolatedNodes.REJECT && !graph.removedNodes().isEmpty()) {
            RemovedNode r = graph.removedNodes().get(0);
            throw new InvalidInputException(graph.removedNodes().size() + " neurons have no weights, or only negligible ones (the first: "
                    + "layer " + r.layer() + " index " + r.index() + "); use isolatedNodes 'drop' to leave them out");
        }
        return run(GraphOperator.of(graph), graph.degrees(), graph::cutWeights, graph.totalNodes(), graph.edges(),
                graph.keptNodes(), graph.removedNodes(), graph.components().count(), options, t0);
    }

    /** Per-cluster cut weights of a labelling of the clustered graph. */
    private interface Cuts {
        double[] of(int[] labels, int clusters);
    }

    // The pipeline shared by both graph forms: eigenpairs, embedding, k-means, n-cut, result.
    private static ClusterResult run(GraphOperator op, double[] degrees, Cuts cuts, int totalNodes, long edges, int[] kept,
            List<RemovedNode> removed, int components, ClusterOptions o, long t0) {
        EigenResult eig = LaplacianEigensolver.solve(op, o.eigenOptions()).requireConverged();
        KMeansResult km = KMeans.fit(embedding(eig, degrees), eig.nodes(), eig.k(), o.kmeansOptions());
        int[] labels = km.labels();
        int clusters = 0;
        for (int l : labels) {
            clusters = Math.max(clusters, l + 1);
        }
        NCut nc = NCut.of(cuts.of(labels, clusters), NCut.volumes(labels, degrees, clusters));
        int[] full = new int[totalNodes];
        java.util.Arrays.fill(full, -1);
        for (int t = 0; t < kept.length; t++) {
            full[kept[t]] = labels[t];
        }
        int[] sizes = new int[clusters];
        for (int l : labels) {
            sizes[l]++;
        }
        return new ClusterResult(eig.nodes(), totalNodes, edges, o.k(), nc.total(), nc.perCluster(), sizes, full,
                eig.eigenvalues(), eig.residuals(), removed, components, (System.nanoTime() - t0) / 1e9, eig.iterations(),
                eig.operatorApplications(), eig.converged() == eig.k(), eig.method(), km.inertia(), o);
    }

    /** Clusters the graph of an MLP given its weight matrices (each out x in, forward order). */
    public static ClusterResult cluster(List<FloatMatrix> weights, ClusterOptions options) {
        return cluster(NetworkGraph.fromWeights(weights), options);
    }

    /**
     * Clusters the unit graph of a CNN (channels and neurons as nodes, see {@link CnnUnitGraph});
     * removed units are reported with their unit layer ({@link CnnUnitGraph#unitLayers()}).
     */
    public static ClusterResult cluster(CnnUnitGraph graph, ClusterOptions options) {
        return cluster(graph.network(), options);
    }

    /** Builds the unit graph of a CNN's weighted layers (forward order) and clusters it. */
    public static ClusterResult cluster(List<CnnLayer> layers, CnnGraphOptions graph, ClusterOptions options) {
        return cluster(CnnUnitGraph.build(layers, graph), options);
    }

    /**
     * The n-cut of a partition of a graph. {@code labels[i]} in [0, clusters) for every node
     * with edges; -1 allowed for isolated nodes.
     */
    public static NCut ncut(CsrGraph graph, int[] labels) {
        int clusters = validateLabels(labels, graph.nodes());
        return NCut.of(graph.cutWeights(labels, clusters), NCut.volumes(labels, graph.degrees(), clusters));
    }

    /** The n-cut of a partition of a network graph's kept nodes (labels in kept order). */
    public static NCut ncut(NetworkGraph graph, int[] labels) {
        int clusters = validateLabels(labels, graph.nodes());
        for (int l : labels) {
            if (l < 0) {
                throw new InvalidInputException("every kept node of a network graph needs a label >= 0");
            }
        }
        return NCut.of(graph.cutWeights(labels, clusters), NCut.volumes(labels, graph.degrees(), clusters));
    }

    /** The random-walk embedding: row i of the eigenvectors divided by sqrt(degree_i). */
    public static double[] embedding(EigenResult eig, double[] degrees) {
        int n = eig.nodes();
        int k = eig.k();
        if (degrees.length != n) {
            throw new InvalidInputException("degrees must have one entry per node (" + n + "), got " + degrees.length);
        }
        double[] v = eig.eigenvectors();
        for (int i = 0; i < n; i++) {
            double s = 1.0 / Math.sqrt(degrees[i]);
            for (int j = 0; j < k; j++) {
                v[i * k + j] *= s;
            }
        }
        return v;
    }

    private static int validateLabels(int[] labels, int nodes) {
        if (labels == null || labels.length != nodes) {
            throw new InvalidInputException("labels must have one entry per node (" + nodes + "), got "
                    + (labels == null ? "null" : labels.length));
        }
        int max = -1;
        for (int l : labels) {
            if (l < -1) {
                throw new InvalidInputException("labels must be >= 0 (or -1 for an isolated node), got " + l);
            }
            max = Math.max(max, l);
        }
        return max + 1;
    }

    private static void checkIsolated(int[] isolated, int nodes, ClusterOptions o, String what) {
        if (isolated.length == nodes) {
            throw new InvalidInputException("the graph has no edges (all " + nodes + " nodes are isolated; all weights zero?): "
                    + "there is nothing to cluster");
        }
        if (isolated.length > 0 && o.isolatedNodes() == IsolatedNodes.REJECT) {
            throw new InvalidInputException(isolated.length + " " + what + "s have degree 0 (the first: " + isolated[0]
                    + "); use isolatedNodes 'drop' to leave them out (label -1)");
        }
    }

    private static void checkK(int k, int nodes, int removed) {
        if (k > nodes) {
            throw new InvalidInputException("k = " + k + " clusters exceeds the " + nodes + " nodes"
                    + (removed > 0 ? " left after removing " + removed + " isolated nodes" : "") + "; lower k to at most "
                    + nodes);
        }
    }

    /** The indices in [0, size) that are not in {@code sorted} (strictly ascending), ascending. */
    static int[] complement(int[] sorted, int size) {
        int[] out = new int[size - sorted.length];
        int a = 0;
        int b = 0;
        for (int i = 0; i < size; i++) {
            if (b < sorted.length && sorted[b] == i) {
                b++;
            } else {
                out[a++] = i;
            }
        }
        return out;
    }
}
