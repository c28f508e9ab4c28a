package dev.cleave.graph;

import java.util.Arrays;

/**
 * The connected components of a graph. {@code labels[i]} is node i's component; components are
 * numbered in order of their smallest node, so node 0 is always in component 0.
 *
 * @param count  number of components (an isolated node is a component of its own)
 * @param labels component of each node
 * @param sizes  nodes in each component
 */
public record Components(int count, int[] labels, int[] sizes) {
    public Components {
        labels = labels.clone();
        sizes = sizes.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public int[] sizes() {
        return sizes.clone();
    }

    /** Nodes in the largest component. */
    public int largest() {
        return Arrays.stream(sizes).max().orElse(0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Components c && c.count == count && Arrays.equals(c.labels, labels)
                && Arrays.equals(c.sizes, sizes);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(labels) + count;
    }

    @Override
    public String toString() {
        return "Components[count=" + count + ", largest=" + largest() + "]";
    }
}
