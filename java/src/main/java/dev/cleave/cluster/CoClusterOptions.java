package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;

/**
 * Options of {@link CoClustering}. Immutable, validated, round-trips to JSON.
 *
 * @param k             co-clusters (default 4, as G24)
 * @param variant       joint (Dhillon, default) or separate (G24 compatibility)
 * @param nInit         k-means++ restarts (default 25)
 * @param seed          seed of the eigensolver start and the k-means restarts
 * @param threads       threads (0 = all processors)
 * @param backend       the device it runs on: cpu (the native engine), java (the reference), cuda or cuda-emu
 * @param tolerance     eigenpair residual tolerance (default 1e-6)
 * @param maxIterations eigensolver outer iterations (default 1000)
 * @param solver        eigensolver path (default auto)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CoClusterOptions(int k, CoClusterVariant variant, int nInit, long seed, int threads, Device backend,
        double tolerance, int maxIterations, Solver solver) {
    public static final int DEFAULT_K = 4;

    public CoClusterOptions {
        if (variant == null) {
            throw new InvalidInputException("co-clustering variant must be joint or separate, got null");
        }
        new KMeansOptions(k, nInit, KMeansOptions.DEFAULT_MAX_ITERATIONS, KMeansOptions.DEFAULT_TOLERANCE, seed, threads,
                backend);
        new EigenOptions(1, tolerance, maxIterations, 0, seed, threads, solver, backend);
    }

    /** k = 4, joint, 25 restarts, seed 0, all threads, native, tolerance 1e-6, auto solver. */
    public static CoClusterOptions defaults() {
        return new CoClusterOptions(DEFAULT_K, CoClusterVariant.JOINT, KMeansOptions.DEFAULT_N_INIT, 0L, 0, Device.cpu(),
                EigenOptions.DEFAULT_TOLERANCE, EigenOptions.DEFAULT_MAX_ITERATIONS, Solver.AUTO);
    }

    public CoClusterOptions withK(int k) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withVariant(CoClusterVariant variant) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withNInit(int nInit) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withSeed(long seed) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withThreads(int threads) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withBackend(Device backend) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withTolerance(double tolerance) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    public CoClusterOptions withSolver(Solver solver) {
        return new CoClusterOptions(k, variant, nInit, seed, threads, backend, tolerance, maxIterations, solver);
    }

    /** Singular vectors used: l = ceil(log2 k) (Dhillon 2001). */
    public int vectors() {
        return k <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(k - 1);
    }
}
