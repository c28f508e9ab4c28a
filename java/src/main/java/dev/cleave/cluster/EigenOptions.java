package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;

/**
 * Options of the Laplacian eigensolver ({@link LaplacianEigensolver}). Immutable, validated on
 * construction, and round-trips to JSON (snake_case names).
 *
 * @param k             eigenpairs wanted: the k smallest of L = I - D^-1/2 A D^-1/2, the trivial
 *                      one included (k >= 1, at most the number of nodes)
 * @param tolerance     convergence threshold on the residual ||N v - mu v|| of each unit
 *                      eigenvector v of N = D^-1/2 A D^-1/2 (mu = 1 - lambda). It is relative
 *                      to ||N|| = 1 (the spectral radius of a normalized adjacency is exactly
 *                      1), so absolute and relative coincide. In [1e-13, 0.1]; default 1e-6.
 * @param maxIterations cap on the outer iterations (filter + Rayleigh-Ritz) of the iterative
 *                      solver, >= 1; default 1000
 * @param blockSize     vectors in the iterating block, > k; 0 = automatic (k + max(4, k/3))
 * @param seed          seed of the start block (stream "eigen/start")
 * @param threads       threads of the native kernels; 0 = all available processors
 * @param solver        dense, iterative, or auto (by problem size)
 * @param backend       the device it runs on: cpu (the native engine), java (the reference), cuda or cuda-emu
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record EigenOptions(int k, double tolerance, int maxIterations, int blockSize, long seed, int threads,
        Solver solver, Device backend) {
    public static final double DEFAULT_TOLERANCE = 1e-6;
    public static final int DEFAULT_MAX_ITERATIONS = 1000;

    public EigenOptions {
        if (k < 1) {
            throw new InvalidInputException("k (eigenpairs) must be >= 1, got " + k);
        }
        if (!(tolerance >= 1e-13 && tolerance <= 0.1)) {
            throw new InvalidInputException("tolerance must be in [1e-13, 0.1] (a residual relative to ||N|| = 1), got "
                    + tolerance);
        }
        if (maxIterations < 1 || maxIterations > 1_000_000) {
            throw new InvalidInputException("maxIterations must be in [1, 1000000], got " + maxIterations);
        }
        if (blockSize != 0 && (blockSize <= k || blockSize > 4096)) {
            throw new InvalidInputException("blockSize must be 0 (automatic) or in (k, 4096] = (" + k + ", 4096], got "
                    + blockSize);
        }
        if (threads < 0 || threads > 1024) {
            throw new InvalidInputException("threads must be 0 (all processors) or in [1, 1024], got " + threads);
        }
        if (solver == null || backend == null) {
            throw new InvalidInputException("solver and backend must not be null");
        }
    }

    /** k pairs with every other option at its default (seed 0, all threads, auto solver, native). */
    public static EigenOptions defaults(int k) {
        return new EigenOptions(k, DEFAULT_TOLERANCE, DEFAULT_MAX_ITERATIONS, 0, 0L, 0, Solver.AUTO, Device.cpu());
    }

    public EigenOptions withK(int k) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withTolerance(double tolerance) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withMaxIterations(int maxIterations) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withBlockSize(int blockSize) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withSeed(long seed) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withThreads(int threads) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withSolver(Solver solver) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    public EigenOptions withBackend(Device backend) {
        return new EigenOptions(k, tolerance, maxIterations, blockSize, seed, threads, solver, backend);
    }

    /** The thread count to use: {@code threads}, or all available processors when it is 0. */
    public int resolvedThreads() {
        return Threads.resolve(threads);
    }
}
