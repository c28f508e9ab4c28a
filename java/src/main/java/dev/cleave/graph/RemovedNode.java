package dev.cleave.graph;

/**
 * A node left out of clustering because it has no edges (degree 0): an always-black input
 * pixel, a fully pruned unit. Clustering reports it as unassigned (label -1).
 *
 * @param node  the node's index in the full graph (for a network: layers in order, inputs first)
 * @param layer the layer it belongs to (0 = inputs; 0 for graphs without layers)
 * @param index its index within the layer
 */
public record RemovedNode(int node, int layer, int index) {}
