package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;

/**
 * Options of {@link KMeans}. Immutable, validated, round-trips to JSON.
 *
 * @param k             clusters, >= 1 (at most the number of points)
 * @param nInit         k-means++ restarts, >= 1; the lowest inertia is kept (default 25)
 * @param maxIterations Lloyd iterations per restart, >= 1 (default 300)
 * @param tolerance     Lloyd also stops when the squared shift of the centers falls to
 *                      tolerance x (mean per-dimension variance of the data), as
 *                      scikit-learn; >= 0 (default 1e-4; 0 = only when no label changes)
 * @param seed          seed; restart r draws from stream "kmeans/r"
 * @param threads       restarts run in parallel on this many threads (0 = all processors);
 *                      the result does not depend on it
 * @param backend       the device it runs on: cpu (the native engine), java (the reference), cuda or cuda-emu
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record KMeansOptions(int k, int nInit, int maxIterations, double tolerance, long seed, int threads,
        Device backend) {
    public static final int DEFAULT_N_INIT = 25;
    public static final int DEFAULT_MAX_ITERATIONS = 300;
    public static final double DEFAULT_TOLERANCE = 1e-4;

    public KMeansOptions {
        if (k < 1) {
            throw new InvalidInputException("k (clusters) must be >= 1, got " + k);
        }
        if (nInit < 1 || nInit > 100_000) {
            throw new InvalidInputException("nInit (k-means restarts) must be in [1, 100000], got " + nInit);
        }
        if (maxIterations < 1 || maxIterations > 1_000_000) {
            throw new InvalidInputException("k-means maxIterations must be in [1, 1000000], got " + maxIterations);
        }
        if (!(tolerance >= 0.0 && tolerance < 1.0)) {
            throw new InvalidInputException("k-means tolerance must be in [0, 1), got " + tolerance);
        }
        if (threads < 0 || threads > 1024) {
            throw new InvalidInputException("threads must be 0 (all processors) or in [1, 1024], got " + threads);
        }
        if (backend == null) {
            throw new InvalidInputException("backend must not be null");
        }
    }

    /** k clusters, 25 restarts, 300 iterations, tolerance 1e-4, seed 0, all threads, native. */
    public static KMeansOptions defaults(int k) {
        return new KMeansOptions(k, DEFAULT_N_INIT, DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, 0L, 0, Device.cpu());
    }

    public KMeansOptions withK(int k) {
        return new KMeansOptions(k, nInit, maxIterations, tolerance, seed, threads, backend);
    }

    public KMeansOptions withNInit(int nInit) {
        return new KMeansOptions(k, nInit, maxIterations, tolerance, seed, threads, backend);
    }

    public KMeansOptions withSeed(long seed) {
        return new KMeansOptions(k, nInit, maxIterations, tolerance, seed, threads, backend);
    }

    public KMeansOptions withThreads(int threads) {
        return new KMeansOptions(k, nInit, maxIterations, tolerance, seed, threads, backend);
    }

    public KMeansOptions withBackend(Device backend) {
        return new KMeansOptions(k, nInit, maxIterations, tolerance, seed, threads, backend);
    }

    public int resolvedThreads() {
        return Threads.resolve(threads);
    }
}
