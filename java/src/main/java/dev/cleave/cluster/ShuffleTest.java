package dev.cleave.cluster;

import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import dev.cleave.util.ProgressListener.CancelledException;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The shuffle test of Filan et al. (2021): cluster the network, then shuffle each weight matrix
 * independently n times ({@link ShuffleMethod}), rebuild the graph and cluster with the same k;
 * report the trained n-cut against the shuffled ones (mean, sd, z, one-sided p).
 *
 * <p>Shuffle i draws its permutation and then its clustering seed from stream "shuffle/i" of the
 * options' seed, and each shuffle is clustered on one thread, with {@code threads} shuffles at
 * once: results do not depend on the thread count. The listener hears ("shuffle", done, n) after
 * each finished shuffle, from any thread (calls are serialized); throwing
 * {@link CancelledException} from it stops the test, which then throws it to the caller.
 */
public final class ShuffleTest {
    /**
     * Something that runs the test: {@link ShuffleTest#run(List, ShuffleOptions, ProgressListener)}
     * here, or a {@link DistributedShuffles} engine that spreads the shuffles and returns the same result.
     */
    @FunctionalInterface
    public interface Runner {
        ShuffleResult run(List<FloatMatrix> weights, ShuffleOptions options, ProgressListener progress);
    }

    public static final String TASK = "shuffle";

    private ShuffleTest() {}

    /** Runs the test without progress reports. */
    public static ShuffleResult run(List<FloatMatrix> weights, ShuffleOptions options) {
        return run(weights, options, ProgressListener.NONE);
    }

    /** Runs the test on an MLP's weight matrices (each out x in, forward order; not modified). */
    public static ShuffleResult run(List<FloatMatrix> weights, ShuffleOptions options, ProgressListener listener) {
        long t0 = System.nanoTime();
        ProgressListener progress = listener == null ? ProgressListener.NONE : listener;
        ClusterResult trained = SpectralClustering.cluster(weights, options.cluster());
        int n = options.shuffles();
        double[] ncuts = new double[n];
        int workers = Math.min(n, options.cluster().resolvedThreads());
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Object lock = new Object();
        synchronized (lock) {
            progress.progress(TASK, 0, n);
        }
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "cleave-shuffle");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int w = 0; w < workers; w++) {
                pool.execute(() -> {
                    int i;
                    while (failure.get() == null && (i = next.getAndIncrement()) < n) {
                        try {
                            ncuts[i] = shuffledNcut(weights, options, i);
                            synchronized (lock) {
                                if (failure.get() == null) {
                                    progress.progress(TASK, done.incrementAndGet(), n);
                                }
                            }
                        } catch (RuntimeException e) {
                            failure.compareAndSet(null, e);
                        } catch (Error e) {
                            failure.compareAndSet(null, new IllegalStateException("shuffle " + i + " failed: " + e, e));
                        }
                    }
                });
            }
            pool.shutdown();
            while (!pool.awaitTermination(100, TimeUnit.MILLISECONDS)) {
                // keep waiting; an interrupt of the caller cancels below
            }
        } catch (InterruptedException e) {
            failure.compareAndSet(null, new CancelledException("shuffle test interrupted"));
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return ShuffleResult.of(trained.ncut(), ncuts, (System.nanoTime() - t0) / 1e9, trained, options);
    }

    /**
     * Runs the test on the unit graph of a CNN: the trained graph and every shuffle of its unit
     * matrices (the channel-norm matrices, as F21 shuffled them) are clustered as an MLP's.
     */
    public static ShuffleResult run(CnnUnitGraph graph, ShuffleOptions options, ProgressListener listener) {
        return run(graph.unitMatrices(), options, listener);
    }

    /** Shuffled copies of a CNN's unit matrices (see {@link #shuffle(List, ShuffleMethod, SplittableRandom)}). */
    public static List<FloatMatrix> shuffle(CnnUnitGraph graph, ShuffleMethod method, SplittableRandom random) {
        return shuffle(graph.unitMatrices(), method, random);
    }

    /**
     * The n-cut of shuffle {@code index} alone, clustered on one thread: exactly the value
     * {@link #run} reports for that index, so shuffles can be spread over processes or machines.
     */
    public static double shuffledNcut(List<FloatMatrix> weights, ShuffleOptions options, int index) {
        if (index < 0 || index >= options.shuffles()) {
            throw new InvalidInputException("shuffle index must be in [0, " + options.shuffles() + "), got " + index);
        }
        SplittableRandom r = Rng.stream(options.cluster().seed(), "shuffle/" + index);
        List<FloatMatrix> shuffled = shuffle(weights, options.method(), r);
        return SpectralClustering.cluster(shuffled, options.cluster().withThreads(1).withSeed(r.nextLong())).ncut();
    }

    /**
     * Shuffled copies of the weight matrices (the inputs are not modified), each matrix permuted
     * independently by Fisher-Yates with draws from {@code random}, in matrix order.
     */
    public static List<FloatMatrix> shuffle(List<FloatMatrix> weights, ShuffleMethod method, SplittableRandom random) {
        if (weights == null || weights.isEmpty()) {
            throw new InvalidInputException("the shuffle test needs at least one weight matrix");
        }
        List<FloatMatrix> out = new ArrayList<>(weights.size());
        for (FloatMatrix w : weights) {
            float[] d = w.data().clone();
            if (method == ShuffleMethod.LAYER) {
                for (int i = d.length - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    float t = d[i];
                    d[i] = d[j];
                    d[j] = t;
                }
            } else {
                int nz = 0;
                for (float v : d) {
                    if (v != 0f) {
                        nz++;
                    }
                }
                int[] pos = new int[nz];
                int at = 0;
                for (int i = 0; i < d.length; i++) {
                    if (d[i] != 0f) {
                        pos[at++] = i;
                    }
                }
                for (int i = nz - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    float t = d[pos[i]];
                    d[pos[i]] = d[pos[j]];
                    d[pos[j]] = t;
                }
            }
            out.add(new FloatMatrix(w.rows(), w.cols(), d));
        }
        return out;
    }
}
