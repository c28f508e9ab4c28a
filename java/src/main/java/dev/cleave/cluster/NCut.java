package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Arrays;

/**
 * The normalized cut of a partition: ncut = sum over clusters c of cut(c) / vol(c), where cut(c)
 * sums the weights of edges leaving c and vol(c) the degrees of c's nodes. In [0, clusters];
 * lower is more clusterable.
 *
 * @param total      the n-cut
 * @param perCluster cut(c) / vol(c) per cluster
 * @param cut        cut(c) per cluster
 * @param volume     vol(c) per cluster
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record NCut(double total, double[] perCluster, double[] cut, double[] volume) {
    public NCut {
        perCluster = perCluster.clone();
        cut = cut.clone();
        volume = volume.clone();
    }

    /** From per-cluster cuts and volumes; a cluster of volume 0 contributes 0. */
    public static NCut of(double[] cut, double[] volume) {
        double[] per = new double[cut.length];
        double total = 0.0;
        for (int c = 0; c < cut.length; c++) {
            per[c] = volume[c] > 0 ? cut[c] / volume[c] : 0.0;
            total += per[c];
        }
        return new NCut(total, per, cut, volume);
    }

    /** Per-cluster volumes from labels (-1 skipped) and degrees. */
    static double[] volumes(int[] labels, double[] degrees, int clusters) {
        double[] vol = new double[clusters];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= 0) {
                vol[labels[i]] += degrees[i];
            }
        }
        return vol;
    }

    @Override
    public double[] perCluster() {
        return perCluster.clone();
    }

    @Override
    public double[] cut() {
        return cut.clone();
    }

    @Override
    public double[] volume() {
        return volume.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NCut x && Double.compare(x.total, total) == 0 && Arrays.equals(x.perCluster, perCluster)
                && Arrays.equals(x.cut, cut) && Arrays.equals(x.volume, volume);
    }

    @Override
    public int hashCode() {
        return Double.hashCode(total) * 31 + Arrays.hashCode(cut);
    }

    @Override
    public String toString() {
        return "NCut[total=" + total + ", perCluster=" + Arrays.toString(perCluster) + "]";
    }
}
