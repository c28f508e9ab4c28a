package dev.cleave.cluster;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Runs a {@link ShuffleTest} with its shuffles spread over a cluster engine (the cleave-spark
 * module provides one, found through {@link ServiceLoader}, so the core does not depend on it).
 * An implementation returns what {@link ShuffleTest#run} returns for the same options, but for
 * the wall time: shuffle i is {@link ShuffleTest#shuffledNcut}(weights, options, i) wherever it runs.
 */
public interface DistributedShuffles {
    /** Runs the test on the engine at {@code master} (e.g. "local[2]", "spark://host:7077"). */
    ShuffleResult run(List<FloatMatrix> weights, ShuffleOptions options, String master);

    /** The implementation on the class path, or a clear error when there is none. */
    static DistributedShuffles load() {
        for (DistributedShuffles d : ServiceLoader.load(DistributedShuffles.class)) {
            return d;
        }
        throw new InvalidInputException("--spark needs Cleave's Spark module on the class path: run it through the "
                + "./cleave launcher (which builds java/spark and adds it when --spark is given)");
    }
}
