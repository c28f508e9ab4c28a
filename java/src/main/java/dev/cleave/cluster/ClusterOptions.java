package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;

/**
 * Options of {@link SpectralClustering}. Immutable, validated on construction (each group by
 * the options record it feeds: {@link EigenOptions}, {@link KMeansOptions}), and round-trips to
 * JSON with snake_case names, so a result file says exactly how it was produced.
 *
 * <p>Start from {@link #defaults()} and change what you need:
 * {@code ClusterOptions.defaults().withK(8).withSeed(42)}.
 *
 * @param k                   clusters and eigenvectors (default 12, as Filan et al.)
 * @param nInit               k-means++ restarts, lowest inertia kept (default 25)
 * @param seed                the one seed: eigensolver start ("eigen/start/..."), k-means
 *                            restarts ("kmeans/r")
 * @param threads             threads (0 = all processors); results do not depend on it
 * @param backend             the device it runs on: cpu (the native engine, default), java (the reference), cuda or cuda-emu
 * @param tolerance           eigenpair residual tolerance, relative to ||N|| = 1 (default 1e-6)
 * @param maxIterations       eigensolver outer iterations (default 1000)
 * @param blockSize           eigensolver block, 0 = automatic
 * @param solver              eigensolver: auto (default), dense or iterative
 * @param kmeansMaxIterations Lloyd iterations per restart (default 300)
 * @param kmeansTolerance     Lloyd center-shift tolerance, as scikit-learn (default 1e-4)
 * @param isolatedNodes       drop (default: label -1 and report) or reject degree-0 nodes
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ClusterOptions(int k, int nInit, long seed, int threads, Device backend, double tolerance,
        int maxIterations, int blockSize, Solver solver, int kmeansMaxIterations, double kmeansTolerance,
        IsolatedNodes isolatedNodes) {
    public static final int DEFAULT_K = 12;

    public ClusterOptions {
        new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
        new KMeansOptions(k, nInit, kmeansMaxIterations, kmeansTolerance, seed, threads, backend);
        if (isolatedNodes == null) {
            throw new InvalidInputException("isolatedNodes must be drop or reject, got null");
        }
    }

    /** k = 12, 25 restarts, seed 0, all threads, native, tolerance 1e-6, auto solver. */
    public static ClusterOptions defaults() {
        return new ClusterOptions(DEFAULT_K, KMeansOptions.DEFAULT_N_INIT, 0L, 0, Device.cpu(),
                EigenOptions.DEFAULT_TOLERANCE, EigenOptions.DEFAULT_MAX_ITERATIONS, 0, Solver.AUTO,
                KMeansOptions.DEFAULT_MAX_ITERATIONS, KMeansOptions.DEFAULT_TOLERANCE, IsolatedNodes.DROP);
    }

    /** The eigensolver's share of these options. */
    public EigenOptions eigenOptions() {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    /** The k-means share of these options. */
    public KMeansOptions kmeansOptions() {
        return new KMeansOptions(k, nInit, kmeansMaxIterations, kmeansTolerance, seed, threads, backend);
    }

    public ClusterOptions withK(int k) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withNInit(int nInit) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withSeed(long seed) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withThreads(int threads) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withBackend(Device backend) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withTolerance(double tolerance) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withMaxIterations(int maxIterations) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withBlockSize(int blockSize) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withSolver(Solver solver) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withKmeansMaxIterations(int kmeansMaxIterations) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withKmeansTolerance(double kmeansTolerance) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    public ClusterOptions withIsolatedNodes(IsolatedNodes isolatedNodes) {
        return new ClusterOptions(k, nInit, seed, threads, backend, tolerance, maxIterations, blockSize, solver,
                kmeansMaxIterations, kmeansTolerance, isolatedNodes);
    }

    /** The thread count to use: {@code threads}, or all available processors when it is 0. */
    public int resolvedThreads() {
        return Threads.resolve(threads);
    }
}
