package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Arrays;

/**
 * Is a network more clusterable than chance? The trained n-cut against the n-cuts of shuffled
 * copies (Filan et al. 2021).
 *
 * @param method      the null model
 * @param n           shuffles
 * @param trainedNcut n-cut of the network as given
 * @param ncuts       n-cut of every shuffle, in shuffle order (for a histogram)
 * @param mean        mean of the shuffled n-cuts
 * @param sd          their standard deviation (ddof 0)
 * @param z           (trainedNcut - mean) / sd: negative = more clusterable than chance; null
 *                    when sd is 0 (all shuffles equal)
 * @param p           one-sided p = (r + 1) / (n + 1), r = shuffles with an n-cut below the
 *                    trained one
 * @param lower       r
 * @param seconds     wall time of the whole test
 * @param trained     the clustering of the network as given
 * @param options     the options it ran with
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ShuffleResult(ShuffleMethod method, int n, double trainedNcut, double[] ncuts, double mean, double sd,
        Double z, double p, int lower, double seconds, ClusterResult trained, ShuffleOptions options) {
    public ShuffleResult {
        ncuts = ncuts.clone();
    }

    @Override
    public double[] ncuts() {
        return ncuts.clone();
    }

    /** The statistics of a trained n-cut against shuffled ones (the test's arithmetic, alone). */
    public static ShuffleResult of(double trainedNcut, double[] ncuts, double seconds, ClusterResult trained,
            ShuffleOptions options) {
        int n = ncuts.length;
        double mean = 0.0;
        for (double v : ncuts) {
            mean += v;
        }
        mean /= n;
        double ss = 0.0;
        for (double v : ncuts) {
            ss += (v - mean) * (v - mean);
        }
        double sd = Math.sqrt(ss / n);
        int lower = 0;
        for (double v : ncuts) {
            if (v < trainedNcut) {
                lower++;
            }
        }
        Double z = sd > 0 ? (trainedNcut - mean) / sd : null;
        double p = (lower + 1.0) / (n + 1.0);
        return new ShuffleResult(options.method(), n, trainedNcut, ncuts, mean, sd, z, p, lower, seconds, trained,
                options);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShuffleResult r && r.method == method && r.n == n
                && Double.compare(r.trainedNcut, trainedNcut) == 0 && Arrays.equals(r.ncuts, ncuts)
                && Double.compare(r.mean, mean) == 0 && Double.compare(r.sd, sd) == 0 && java.util.Objects.equals(r.z, z)
                && Double.compare(r.p, p) == 0 && r.lower == lower && Double.compare(r.seconds, seconds) == 0
                && java.util.Objects.equals(r.trained, trained) && r.options.equals(options);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ncuts) * 31 + Double.hashCode(trainedNcut);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "ShuffleResult[%s, n=%d, ncut=%.4f, shuffled %.4f +- %.4f, z=%s, p=%.4f]",
                method, n, trainedNcut, mean, sd, z == null ? "n/a" : String.format(java.util.Locale.ROOT, "%.2f", z), p);
    }
}
