package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** k-means++: native against the Java reference, thread independence, edge cases. */
class KMeansTest {
    static double[] blobs(int perBlob, int blobs, int d, double spread, long seed, int[] truth) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] centers = new double[blobs * d];
        for (int i = 0; i < centers.length; i++) {
            centers[i] = 10 * r.nextDouble();
        }
        double[] x = new double[perBlob * blobs * d];
        for (int i = 0; i < perBlob * blobs; i++) {
            int b = r.nextInt(blobs);
            truth[i] = b;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = centers[b * d + j] + spread * (r.nextDouble() - 0.5);
            }
        }
        return x;
    }

    @Test
    void nativeMatchesReferenceOnSeparatedAndUnstructuredData() {
        int[] truth = new int[600];
        double[] sep = blobs(100, 6, 4, 0.5, 7, truth);
        double[] noise = new double[1500 * 5];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < noise.length; i++) {
            noise[i] = r.nextDouble();
        }
        for (double[] x : new double[][] {sep, noise}) {
            int d = x == sep ? 4 : 5;
            int n = x.length / d;
            KMeansOptions o = KMeansOptions.defaults(6).withSeed(3).withNInit(8);
            assertNativeMatchesReference(x, n, d, o, "");
        }
    }

    /**
     * The widths a k-cluster spectral embedding has (d = k: 8, 12 and 16 take the native
     * register-run center sums, 10 the unrolled one), n not a multiple of the 8-point distance
     * blocks, points sorted by blob as a graph's nodes come by layer (long runs of one label):
     * native labels, centers and inertia as the reference's.
     */
    @Test
    void nativeMatchesReferenceAtSpectralWidths() {
        for (int d : new int[] {8, 10, 12, 16}) {
            int[] truth = new int[1003];
            double[] x = blobs(1003, 1, d, 1.0, 20 + d, truth); // one wide blob: overlapping clusters
            double[] sorted = x.clone();
            Integer[] idx = new Integer[1003];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = i;
            }
            java.util.Arrays.sort(idx, (a, b) -> Double.compare(x[a * d], x[b * d])); // runs along coordinate 0
            for (int i = 0; i < idx.length; i++) {
                System.arraycopy(x, idx[i] * d, sorted, i * d, d);
            }
            KMeansOptions o = KMeansOptions.defaults(d).withSeed(d).withNInit(5);
            assertNativeMatchesReference(sorted, 1003, d, o, ", d = " + d);
        }
    }

    /** The native k-means against the Java reference on the same points: labels, inertia, best restart, centers. */
    private static void assertNativeMatchesReference(double[] x, int n, int d, KMeansOptions o, String what) {
        KMeansResult nat = KMeans.fit(x, n, d, o);
        KMeansResult ref = KMeans.fit(x, n, d, o.withBackend(Device.java()));
        assertArrayEquals(ref.labels(), nat.labels(), "native and reference labels" + what);
        assertEquals(ref.inertia(), nat.inertia(), 1e-9 * ref.inertia());
        assertEquals(ref.bestRestart(), nat.bestRestart());
        double[] a = ref.centers();
        double[] b = nat.centers();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-9);
        }
    }

    @Test
    void separatedBlobsAreRecoveredAndLabelsAreCanonical() {
        int[] truth = new int[800];
        double[] x = blobs(100, 8, 3, 0.3, 5, truth);
        KMeansResult r = KMeans.fit(x, 800, 3, KMeansOptions.defaults(8).withSeed(1));
        assertArrayEquals(KMeans.canonicalLabels(truth), r.labels());
        assertEquals(0, r.labels()[0]);
    }

    @Test
    void resultDoesNotDependOnThreads() {
        double[] x = new double[3000 * 6];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        KMeansOptions o = KMeansOptions.defaults(10).withSeed(9);
        KMeansResult one = KMeans.fit(x, 3000, 6, o.withThreads(1));
        KMeansResult two = KMeans.fit(x, 3000, 6, o.withThreads(2));
        assertEquals(one, two);
    }

    @Test
    void edgeCases() {
        double[] x = {0, 0, 1, 1, 2, 2, 3, 3};
        KMeansResult all = KMeans.fit(x, 4, 2, KMeansOptions.defaults(4));
        assertEquals(0.0, all.inertia(), 0.0);
        assertArrayEquals(new int[] {0, 1, 2, 3}, all.labels());
        // Four copies of two points, k = 3: every cluster still gets a point.
        double[] dup = {0, 0, 0, 0, 5, 5, 5, 5};
        KMeansResult d = KMeans.fit(dup, 8, 1, KMeansOptions.defaults(3));
        int[] count = new int[3];
        for (int l : d.labels()) {
            count[l]++;
        }
        assertTrue(count[0] > 0 && count[1] > 0 && count[2] > 0);
        InvalidInputException big = assertThrows(InvalidInputException.class, () -> KMeans.fit(x, 4, 2, KMeansOptions.defaults(5)));
        assertTrue(big.getMessage().contains("k = 5"), big.getMessage());
        double[] nan = {0, Double.NaN};
        assertThrows(InvalidInputException.class, () -> KMeans.fit(nan, 2, 1, KMeansOptions.defaults(1)));
        assertThrows(InvalidInputException.class, () -> KMeansOptions.defaults(3).withNInit(0));
    }

    @Test
    void uniformGeneratorIsTheDocumentedFormula() {
        // uniform(seed, i) = (mix(seed + (i + 1) * golden) >>> 11) * 2^-53, shared with C++
        assertEquals((dev.cleave.util.Rng.mix(42L + 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53, KMeans.uniform(42L, 0), 0.0);
        double u = KMeans.uniform(7L, 123);
        assertTrue(u >= 0 && u < 1);
    }
}
