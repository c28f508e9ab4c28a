package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.graph.RemovedNode;
import java.util.Arrays;
import java.util.List;

/**
 * A spectral clustering (Filan et al. 2021). Immutable; array accessors return copies. JSON
 * (snake_case) carries every field, the options included.
 *
 * @param nodes                nodes clustered (the graph's nodes minus the removed ones)
 * @param totalNodes           nodes of the graph as given
 * @param edges                edges (non-zero weights)
 * @param k                    clusters asked for
 * @param ncut                 the n-cut of the clustering, in [0, k]
 * @param clusterNcut          cut(c) / vol(c) per cluster, in label order
 * @param clusterSizes         nodes per cluster
 * @param labels               cluster of every node of the graph as given (length totalNodes),
 *                             canonical (clusters numbered by their smallest node), -1 for a
 *                             removed node
 * @param eigenvalues          the k smallest eigenvalues of the normalized Laplacian, ascending
 * @param residuals            ||N v - mu v|| of each eigenpair (relative to ||N|| = 1)
 * @param removedNodes         nodes of degree 0, left out (label -1), with layer and index for
 *                             network graphs
 * @param components           connected components of the clustered graph (the isolated nodes
 *                             dropped before clustering are not among them: see
 *                             {@link #isolatedNodesDropped()})
 * @param seconds              wall time, graph to labels
 * @param iterations           eigensolver outer iterations (0 = dense)
 * @param operatorApplications eigensolver operator applications to single vectors
 * @param converged            every eigenpair met the tolerance (always true in a returned
 *                             result; otherwise {@link EigenNotConvergedException} is thrown)
 * @param solver               eigensolver path ("chebyshev-bipartite", "dense", ...)
 * @param inertia              k-means inertia of the kept restart
 * @param options              the options it ran with
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ClusterResult(int nodes, int totalNodes, long edges, int k, double ncut, double[] clusterNcut,
        int[] clusterSizes, int[] labels, double[] eigenvalues, double[] residuals, List<RemovedNode> removedNodes,
        int components, double seconds, int iterations, long operatorApplications, boolean converged, String solver,
        double inertia, ClusterOptions options) {
    public ClusterResult {
        clusterNcut = clusterNcut.clone();
        clusterSizes = clusterSizes.clone();
        labels = labels.clone();
        eigenvalues = eigenvalues.clone();
        residuals = residuals.clone();
        removedNodes = List.copyOf(removedNodes);
    }

    @Override
    public double[] clusterNcut() {
        return clusterNcut.clone();
    }

    @Override
    public int[] clusterSizes() {
        return clusterSizes.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    @Override
    public double[] residuals() {
        return residuals.clone();
    }

    /**
     * Nodes of degree 0 left out before clustering (the size of {@code removedNodes}; a node whose
     * only entry was a dropped self loop is one of them). In JSON: {@code isolated_nodes_dropped}.
     */
    @JsonProperty("isolated_nodes_dropped")
    public int isolatedNodesDropped() {
        return removedNodes.size();
    }

    /** Label of one node (-1 if it was removed). */
    public int label(int node) {
        return labels[node];
    }

    /** Largest eigenpair residual. */
    public double maxResidual() {
        return Arrays.stream(residuals).max().orElse(0.0);
    }

    /** Number of non-empty clusters (k unless points coincided). */
    public int clusters() {
        return clusterSizes.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterResult r && r.nodes == nodes && r.totalNodes == totalNodes && r.edges == edges
                && r.k == k && Double.compare(r.ncut, ncut) == 0 && Arrays.equals(r.clusterNcut, clusterNcut)
                && Arrays.equals(r.clusterSizes, clusterSizes) && Arrays.equals(r.labels, labels)
                && Arrays.equals(r.eigenvalues, eigenvalues) && Arrays.equals(r.residuals, residuals)
                && r.removedNodes.equals(removedNodes) && r.components == components
                && Double.compare(r.seconds, seconds) == 0 && r.iterations == iterations
                && r.operatorApplications == operatorApplications && r.converged == converged
                && r.solver.equals(solver) && Double.compare(r.inertia, inertia) == 0 && r.options.equals(options);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(labels) * 31 + Double.hashCode(ncut);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT,
                "ClusterResult[nodes=%d, edges=%d, k=%d, ncut=%.4f, sizes=%s, removed=%d, components=%d, solver=%s, %.3fs]",
                nodes, edges, k, ncut, Arrays.toString(clusterSizes), removedNodes.size(), components, solver, seconds);
    }
}
