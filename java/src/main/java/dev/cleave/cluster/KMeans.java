package dev.cleave.cluster;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nativ.SpectralKernels;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.Arrays;
import org.bytedeco.javacpp.DoublePointer;

/**
 * k-means++ with restarts: greedy k-means++ seeding (as scikit-learn: 2 + floor(ln k)
 * candidates per center, the one that lowers the potential most is kept), Lloyd iterations
 * until no label changes (or the center shift falls below the tolerance, or the iteration cap),
 * {@code nInit} restarts, the lowest inertia kept. Empty clusters take the point farthest from
 * its center, so all k clusters are non-empty. The native Lloyd loop uses Hamerly's bounds to
 * skip distance computations that cannot change a label (same assignments as plain Lloyd up to
 * exact ties); the reference runs plain Lloyd. Restart r is seeded from stream "kmeans/r" of the options' seed and runs on one
 * thread. The native backend runs restarts in parallel (one per thread at a time); the reference and
 * the CUDA backends run them one after another. Either way the best restart is chosen in index order,
 * so the result does not depend on the thread count.
 *
 * <p>A {@link Device.Kind#CPU} device runs native/src/spectral_kmeans.cpp; {@link Device.Kind#JAVA}
 * runs the reference below, the same algorithm with the same random numbers. The CUDA devices run the
 * reference's driver too (seeding, center update, empty clusters, stopping rule, restarts, all
 * shared) with its assignment step, the O(n k d) part, on the device (kernel kmeans_assign).
 */
public final class KMeans {
    private KMeans() {}

    /**
     * Clusters n points of d coordinates (row-major in {@code x}, not modified).
     *
     * @throws InvalidInputException if the shape is wrong, a coordinate is not finite, or k > n
     */
    public static KMeansResult fit(double[] x, int n, int d, KMeansOptions options) {
        if (x == null || n < 1 || d < 1 || (long) n * d != x.length) {
            throw new InvalidInputException("k-means needs n >= 1 points of d >= 1 coordinates in an array of n * d values; got n = "
                    + n + ", d = " + d + ", length " + (x == null ? "null" : x.length));
        }
        if (options.k() > n) {
            throw new InvalidInputException("k = " + options.k() + " clusters exceeds the " + n + " points; lower k to at most " + n);
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new InvalidInputException("k-means point " + (i / d) + " coordinate " + (i % d) + " is " + x[i]);
            }
        }
        int k = options.k();
        long[] seeds = new long[options.nInit()];
        for (int r = 0; r < seeds.length; r++) {
            seeds[r] = Rng.subSeed(options.seed(), "kmeans/" + r);
        }
        int[] labels = new int[n];
        double[] centers = new double[k * d];
        double[] inertia = new double[1];
        int[] stats = new int[2];
        if (options.backend().kind() == Device.Kind.CPU) {
            CpuKernels.check(SpectralKernels.cleave_kmeans(x, n, d, k, options.nInit(), options.maxIterations(),
                    options.tolerance(), seeds, options.resolvedThreads(), labels, centers, inertia, stats));
        } else {
            Reference best = null;
            int bestIndex = 0;
            try (Assigner assigner = options.backend().isCuda() ? new DeviceAssigner(options.backend(), x, n, d, k)
                    : new HostAssigner(x, n, d, k)) {
                for (int r = 0; r < seeds.length; r++) {
                    Reference run = new Reference(x, n, d, k, assigner);
                    run.run(seeds[r], options.maxIterations(), shiftTolerance(x, n, d, options.tolerance()));
                    if (best == null || run.inertia < best.inertia) {
                        best = run;
                        bestIndex = r;
                    }
                }
            }
            labels = best.labels;
            centers = best.centers;
            inertia[0] = best.inertia;
            stats[0] = best.iterations;
            stats[1] = bestIndex;
        }
        int[] map = canonicalMap(labels, k);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = map[labels[i]];
        }
        double[] c = new double[k * d];
        for (int old = 0; old < k; old++) {
            if (map[old] >= 0) {
                System.arraycopy(centers, old * d, c, map[old] * d, d);
            }
        }
        return new KMeansResult(out, c, k, d, inertia[0], stats[0], stats[1]);
    }

    /**
     * The i-th uniform in [0, 1) (53 bits) of the stream {@code seed}: the counter-based
     * generator both backends draw k-means++ choices from (native/src/spectral_kmeans.cpp
     * {@code uniform} is the same function).
     */
    public static double uniform(long seed, long i) {
        return (Rng.mix(seed + (i + 1) * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53;
    }

    /** map[old label] = canonical label (clusters ordered by smallest member), -1 if empty. */
    static int[] canonicalMap(int[] labels, int k) {
        int[] map = new int[k];
        Arrays.fill(map, -1);
        int next = 0;
        for (int l : labels) {
            if (l >= 0 && map[l] < 0) {
                map[l] = next++;
            }
        }
        return map;
    }

    /** Relabels so clusters are numbered by their smallest member; -1 (unassigned) stays -1. */
    public static int[] canonicalLabels(int[] labels) {
        int max = -1;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        int[] map = canonicalMap(labels, max + 1);
        int[] out = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            out[i] = labels[i] < 0 ? -1 : map[labels[i]];
        }
        return out;
    }

    private static double shiftTolerance(double[] x, int n, int d, double tol) {
        double var = 0.0;
        for (int j = 0; j < d; j++) {
            double m = 0.0;
            double s = 0.0;
            for (int i = 0; i < n; i++) {
                m += x[i * d + j];
            }
            m /= n;
            for (int i = 0; i < n; i++) {
                s += (x[i * d + j] - m) * (x[i * d + j] - m);
            }
            var += s / n;
        }
        return tol * var / d;
    }

    /** |x_i - c[off .. off + d)|^2, the coordinates summed in order. */
    static double dist2(double[] x, int i, int d, double[] c, int off) {
        double s = 0.0;
        for (int j = 0; j < d; j++) {
            double t = x[i * d + j] - c[off + j];
            s += t * t;
        }
        return s;
    }

    /**
     * Lloyd's assignment step: every point to its nearest center (ties to the lowest index),
     * its squared distance into dist; returns how many labels changed. The one part of a
     * restart that differs between the Java reference and a CUDA backend.
     */
    private interface Assigner extends AutoCloseable {
        long assign(double[] centers, int[] labels, double[] dist);

        @Override
        void close();
    }

    /** The reference: plain loops. */
    private record HostAssigner(double[] x, int n, int d, int k) implements Assigner {
        @Override
        public long assign(double[] centers, int[] labels, double[] dist) {
            long changed = 0;
            for (int i = 0; i < n; i++) {
                int best = 0;
                double bd = dist2(x, i, d, centers, 0);
                for (int c = 1; c < k; c++) {
                    double dc = dist2(x, i, d, centers, c * d);
                    if (dc < bd) {
                        bd = dc;
                        best = c;
                    }
                }
                if (labels[i] != best) {
                    changed++;
                }
                labels[i] = best;
                dist[i] = bd;
            }
            return changed;
        }

        @Override
        public void close() {}
    }

    /**
     * The assignment on a CUDA backend (kernel kmeans_assign): the points are uploaded once for
     * all restarts; per step the k centers go up and the labels and distances come back (the
     * center update, relocation of empty clusters and the stopping rule stay in the shared driver).
     */
    private static final class DeviceAssigner implements Assigner {
        private final CudaApi api;
        private final int n;
        private final int d;
        private final int k;
        private final CudaBuffer points;
        private final CudaBuffer centerBuf;
        private final CudaBuffer labelBuf;
        private final CudaBuffer distBuf;

        DeviceAssigner(Device backend, double[] x, int n, int d, int k) {
            if (d > 4096) {
                throw new InvalidInputException("the " + backend + " backend clusters points of at most 4096 coordinates, got "
                        + d + "; use --backend cpu");
            }
            this.api = backend.cuda();
            this.n = n;
            this.d = d;
            this.k = k;
            CudaBuffer p = null;
            CudaBuffer c = null;
            CudaBuffer l = null;
            try {
                p = CudaBuffer.of(api, x);
                c = CudaBuffer.allocate(api, 8L * k * d);
                l = CudaBuffer.allocate(api, 4L * n);
                distBuf = CudaBuffer.allocate(api, 8L * n);
            } catch (RuntimeException e) {
                for (CudaBuffer b : new CudaBuffer[] {p, c, l}) {
                    if (b != null) {
                        b.close();
                    }
                }
                throw e;
            }
            points = p;
            centerBuf = c;
            labelBuf = l;
        }

        @Override
        public long assign(double[] centers, int[] labels, double[] dist) {
            try (DoublePointer cp = new DoublePointer(centers)) {
                centerBuf.upload(cp);
            }
            api.check(api.kmeansAssign(points.address(), n, d, centerBuf.address(), k, labelBuf.address(),
                    distBuf.address()));
            int[] fresh = labelBuf.toInts();
            System.arraycopy(distBuf.toDoubles(), 0, dist, 0, n);
            long changed = 0;
            for (int i = 0; i < n; i++) {
                if (labels[i] != fresh[i]) {
                    changed++;
                }
                labels[i] = fresh[i];
            }
            return changed;
        }

        @Override
        public void close() {
            points.close();
            centerBuf.close();
            labelBuf.close();
            distBuf.close();
        }
    }

    /**
     * One restart of the reference: the native KMeans::run's seeding, center update, empty-cluster
     * rule and stopping rule with the same random numbers, but plain Lloyd assignment (the native
     * loop skips distances with Hamerly's bounds), its assignment step from an {@link Assigner}.
     */
    private static final class Reference {
        final double[] x;
        final int n;
        final int d;
        final int k;
        final Assigner assigner;
        int[] labels;
        double[] centers;
        double inertia;
        int iterations;

        Reference(double[] x, int n, int d, int k, Assigner assigner) {
            this.x = x;
            this.n = n;
            this.d = d;
            this.k = k;
            this.assigner = assigner;
        }

        double dist2(int i, double[] c, int off) {
            return KMeans.dist2(x, i, d, c, off);
        }

        void seedPlusPlus(long seed) {
            long draw = 0;
            int trials = 2 + (int) Math.log(k);
            double[] closest = new double[n];
            double[] cum = new double[n];
            double[] candD = new double[n];
            double[] bestD = new double[n];
            int first = (int) Math.min(n - 1, (long) (uniform(seed, draw++) * n));
            System.arraycopy(x, first * d, centers, 0, d);
            for (int i = 0; i < n; i++) {
                closest[i] = dist2(i, centers, 0);
            }
            for (int c = 1; c < k; c++) {
                double s = 0.0;
                for (int i = 0; i < n; i++) {
                    cum[i] = (s += closest[i]);
                }
                double bestPot = Double.POSITIVE_INFINITY;
                int best = -1;
                for (int t = 0; t < trials; t++) {
                    double r = uniform(seed, draw++);
                    int idx;
                    if (s > 0.0) {
                        idx = upperBound(cum, r * s);
                        if (idx >= n) {
                            idx = n - 1;
                        }
                    } else {
                        idx = (int) Math.min(n - 1, (long) (r * n));
                    }
                    double p = 0.0;
                    for (int i = 0; i < n; i++) {
                        double dd = Math.min(closest[i], dist2(i, x, idx * d));
                        candD[i] = dd;
                        p += dd;
                    }
                    if (p < bestPot) {
                        bestPot = p;
                        best = idx;
                        double[] tmp = bestD;
                        bestD = candD;
                        candD = tmp;
                    }
                }
                System.arraycopy(x, best * d, centers, c * d, d);
                double[] tmp = closest;
                closest = bestD;
                bestD = tmp;
            }
        }

        private static int upperBound(double[] a, double v) {
            int lo = 0;
            int hi = a.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (a[mid] <= v) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        long assign(double[] dist) {
            return assigner.assign(centers, labels, dist);
        }

        void relocateEmpty(double[] dist) {
            long[] count = new long[k];
            for (int i = 0; i < n; i++) {
                count[labels[i]]++;
            }
            for (int c = 0; c < k; c++) {
                if (count[c] > 0) {
                    continue;
                }
                int far = -1;
                for (int i = 0; i < n; i++) {
                    if (count[labels[i]] > 1 && (far < 0 || dist[i] > dist[far])) {
                        far = i;
                    }
                }
                if (far < 0) {
                    break;
                }
                count[labels[far]]--;
                labels[far] = c;
                dist[far] = 0.0;
                count[c] = 1;
                System.arraycopy(x, far * d, centers, c * d, d);
            }
        }

        void updateMeans() {
            long[] count = new long[k];
            Arrays.fill(centers, 0.0);
            for (int i = 0; i < n; i++) {
                count[labels[i]]++;
                int off = labels[i] * d;
                for (int j = 0; j < d; j++) {
                    centers[off + j] += x[i * d + j];
                }
            }
            for (int c = 0; c < k; c++) {
                for (int j = 0; j < d; j++) {
                    centers[c * d + j] /= count[c];
                }
            }
        }

        void run(long seed, int maxIter, double shiftTol) {
            labels = new int[n];
            Arrays.fill(labels, -1);
            centers = new double[k * d];
            seedPlusPlus(seed);
            double[] dist = new double[n];
            boolean strict = false;
            int it = 0;
            while (it < maxIter) {
                ++it;
                long changed = assign(dist);
                if (changed == 0 && it > 1) {
                    strict = true;
                    break;
                }
                double[] prev = centers.clone();
                relocateEmpty(dist);
                updateMeans();
                double shift = 0.0;
                for (int e = 0; e < prev.length; e++) {
                    shift += (prev[e] - centers[e]) * (prev[e] - centers[e]);
                }
                if (shift <= shiftTol) {
                    break;
                }
            }
            if (!strict) {
                assign(dist);
                relocateEmpty(dist);
            }
            double s = 0.0;
            for (int i = 0; i < n; i++) {
                s += dist[i];
            }
            inertia = s;
            iterations = it;
        }
    }
}
