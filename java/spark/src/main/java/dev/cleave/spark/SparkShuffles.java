package dev.cleave.spark;

import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.DistributedShuffles;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.io.Json;
import dev.cleave.util.FloatMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * The shuffle test with its shuffles spread over Spark tasks (one task per shuffle, one thread
 * each): shuffle i is {@link ShuffleTest#shuffledNcut} wherever it runs, so the result equals
 * {@link ShuffleTest#run}'s for the same options, but for the wall time. The trained network is
 * clustered on the driver.
 */
public final class SparkShuffles implements DistributedShuffles {
    @Override
    public ShuffleResult run(List<FloatMatrix> weights, ShuffleOptions options, String master) {
        SparkSession spark = Sparks.session(Sparks.master(master), "cleave shuffle test", 1);
        return run(spark, weights, options);
    }

    /** On a running session. */
    public static ShuffleResult run(SparkSession spark, List<FloatMatrix> weights, ShuffleOptions options) {
        long t0 = System.nanoTime();
        ClusterResult trained = SpectralClustering.cluster(weights, options.cluster());
        ArrayList<int[]> shapes = new ArrayList<>();
        ArrayList<float[]> data = new ArrayList<>();
        for (FloatMatrix w : weights) {
            shapes.add(new int[] {w.rows(), w.cols()});
            data.add(w.data().clone());
        }
        String optionsJson = Json.write(options);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // the weights go to each executor once (a broadcast), not inside every task
        Broadcast<ArrayList<float[]>> shared = jsc.broadcast(data);
        List<Integer> idx = IntStream.range(0, options.shuffles()).boxed().toList();
        List<Double> ncuts;
        try {
            ncuts = jsc.parallelize(idx, idx.size()).map(i -> {
                List<FloatMatrix> ws = new ArrayList<>();
                for (int l = 0; l < shapes.size(); l++) {
                    ws.add(new FloatMatrix(shapes.get(l)[0], shapes.get(l)[1], shared.value().get(l)));
                }
                return ShuffleTest.shuffledNcut(ws, Json.read(optionsJson, ShuffleOptions.class), i);
            }).collect();
        } finally {
            shared.destroy();
        }
        double[] n = ncuts.stream().mapToDouble(Double::doubleValue).toArray();
        return ShuffleResult.of(trained.ncut(), n, (System.nanoTime() - t0) / 1e9, trained, options);
    }
}
