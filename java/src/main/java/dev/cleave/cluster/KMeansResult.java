package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Arrays;

/**
 * A k-means clustering. Labels are canonical: clusters are numbered in order of their smallest
 * point index (point 0 is in cluster 0), so equal partitions print equally.
 *
 * @param labels      cluster of each point
 * @param centers     k x dimensions, row-major, in label order
 * @param k           clusters
 * @param dimensions  coordinates per point
 * @param inertia     sum of squared distances of the points to their centers
 * @param iterations  Lloyd iterations of the kept restart
 * @param bestRestart index of the kept restart (lowest inertia, ties to the lowest index)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record KMeansResult(int[] labels, double[] centers, int k, int dimensions, double inertia, int iterations,
        int bestRestart) {
    public KMeansResult {
        labels = labels.clone();
        centers = centers.clone();
    }

    @Override
    public int[] labels() {
        return labels.clone();
    }

    @Override
    public double[] centers() {
        return centers.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KMeansResult r && Arrays.equals(r.labels, labels) && Arrays.equals(r.centers, centers)
                && r.k == k && r.dimensions == dimensions && Double.compare(r.inertia, inertia) == 0
                && r.iterations == iterations && r.bestRestart == bestRestart;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(labels) * 31 + Double.hashCode(inertia);
    }

    @Override
    public String toString() {
        return "KMeansResult[k=" + k + ", points=" + labels.length + ", inertia=" + inertia + ", iterations="
                + iterations + "]";
    }
}
