package dev.cleave.bench;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.MatrixMarket;
import dev.cleave.graph.SliceNorm;
import dev.cleave.util.ProgressListener;
import dev.cleave.util.Rng;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Command-line helper of benchmarks/scripts/cnn_shuffle_sklearn.py (not the product CLI): unit
 * graphs of Glorot-uniform random CNNs with the channel sizes of science.md section 8.
 * <pre>
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.CnnGraphRun ncut ARCH SEEDS [K] [NORM] [EDGES]
 *       ARCH f21-cnn or vgg16-cifar; the graph (default F21 edges, max-col-sum) of SEEDS nets
 *       (seeds 0..SEEDS-1) clustered with k (default 12); one JSON line per net and one with the mean.
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.CnnGraphRun export ARCH SEED FILE
 *       writes the F21 graph (max-col-sum) of net SEED as a Matrix Market file.
 *   java -cp benchmarks/target/benchmarks.jar dev.cleave.bench.CnnGraphRun shuffle ARCH SEED N [THREADS]
 *       the shuffle test (layer, N shuffles, k 12) of that graph's unit matrices, after an untimed
 *       warm-up test of 4 shuffles; one JSON line with the wall time and the statistics.
 * </pre>
 * Weights: conv (out, in, 3, 3) and linear (out, in) uniform in +-sqrt(6 / (fan_in + fan_out))
 * (fan = channels * 3 * 3 for a conv, as Keras' and PyTorch's Glorot/Xavier), drawn from
 * stream "cnn/l" of the seed. Biases and batchnorm carry no edges (a fresh batchnorm folds to 1).
 */
public final class CnnGraphRun {
    private CnnGraphRun() {}

    static final int[] F21_CNN = {64, 64, 64};
    static final int[] VGG16 = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};

    /** The weighted layers of a Glorot-initialised f21-cnn (1x28x28 input) or vgg16-cifar (3x32x32). */
    static List<CnnLayer> glorot(String arch, long seed) {
        int[] convs;
        int inChannels;
        int[] dense;
        int spatial;
        if (arch.equals("f21-cnn")) {
            convs = F21_CNN;
            inChannels = 1;
            dense = new int[] {128, 10};
            spatial = 7;
        } else if (arch.equals("vgg16-cifar")) {
            convs = VGG16;
            inChannels = 3;
            dense = new int[] {512, 10};
            spatial = 1;
        } else {
            throw new IllegalArgumentException("arch must be f21-cnn or vgg16-cifar, got " + arch);
        }
        List<CnnLayer> layers = new ArrayList<>();
        int in = inChannels;
        for (int l = 0; l < convs.length; l++) {
            layers.add(CnnLayer.conv(convs[l], in, 3, 3, uniform(seed, l, convs[l] * in * 9, (in + convs[l]) * 9)));
            in = convs[l];
        }
        int features = in * spatial * spatial;
        for (int d = 0; d < dense.length; d++) {
            int l = convs.length + d;
            CnnLayer layer = CnnLayer.linear(dense[d], features, uniform(seed, l, dense[d] * features, dense[d] + features));
            layers.add(d == 0 ? layer.flattenedFrom(spatial, spatial) : layer);
            features = dense[d];
        }
        return layers;
    }

    private static float[] uniform(long seed, int layer, int n, int fans) {
        SplittableRandom r = Rng.stream(seed, "cnn/" + layer);
        double limit = Math.sqrt(6.0 / fans);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) ((2 * r.nextDouble() - 1) * limit);
        }
        return w;
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("ncut")) {
            int seeds = Integer.parseInt(args[2]);
            int k = args.length > 3 ? Integer.parseInt(args[3]) : 12;
            SliceNorm norm = args.length > 4 ? SliceNorm.parse(args[4]) : SliceNorm.MAX_COL_SUM;
            CnnGraphOptions.Edges edges = args.length > 5 ? CnnGraphOptions.Edges.parse(args[5]) : CnnGraphOptions.Edges.F21;
            CnnGraphOptions go = new CnnGraphOptions(norm, edges);
            double sum = 0;
            for (int s = 0; s < seeds; s++) {
                CnnUnitGraph g = CnnUnitGraph.build(glorot(args[1], s), go);
                ClusterResult r = SpectralClustering.cluster(g, ClusterOptions.defaults().withK(k).withSeed(s));
                sum += r.ncut();
                System.out.println(String.format(Locale.ROOT, "{\"arch\": \"%s\", \"seed\": %d, \"nodes\": %d, \"edges\": \"%s\", "
                        + "\"norm\": \"%s\", \"k\": %d, \"ncut\": %.4f}", args[1], s, r.nodes(), edges, norm, k, r.ncut()));
            }
            System.out.println(String.format(Locale.ROOT, "{\"arch\": \"%s\", \"seeds\": %d, \"mean_ncut\": %.4f}", args[1], seeds,
                    sum / seeds));
            return;
        }
        if (args.length >= 4 && args[0].equals("export")) {
            CnnUnitGraph g = CnnUnitGraph.build(glorot(args[1], Long.parseLong(args[2])), CnnGraphOptions.f21());
            Path file = Path.of(args[3]);
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            MatrixMarket.write(g.toCsr(), file);
            return;
        }
        if (args.length >= 4 && args[0].equals("shuffle")) {
            long tl = System.nanoTime();
            CnnUnitGraph g = CnnUnitGraph.build(glorot(args[1], Long.parseLong(args[2])), CnnGraphOptions.f21());
            double build = (System.nanoTime() - tl) / 1e9;
            int n = Integer.parseInt(args[3]);
            int threads = args.length > 4 ? Integer.parseInt(args[4]) : 0;
            ShuffleOptions o = ShuffleOptions.defaults().withShuffles(n).withCluster(ClusterOptions.defaults().withThreads(threads));
            ShuffleTest.run(g, o.withShuffles(4), ProgressListener.NONE); // warm-up
            long t0 = System.nanoTime();
            ShuffleResult r = ShuffleTest.run(g, o, ProgressListener.NONE);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.println(String.format(Locale.ROOT,
                    "{\"tool\": \"cleave\", \"arch\": \"%s\", \"nodes\": %d, \"edges\": %d, \"build_seconds\": %.3f, "
                            + "\"shuffles\": %d, \"seconds\": %.3f, \"trained_ncut\": %.6f, \"mean\": %.6f, \"sd\": %.6f, "
                            + "\"z\": %s, \"p\": %.4f}",
                    args[1], g.network().nodes(), g.network().edges(), build, n, s, r.trainedNcut(), r.mean(), r.sd(),
                    r.z() == null ? "null" : String.format(Locale.ROOT, "%.3f", r.z()), r.p()));
            return;
        }
        System.err.println("usage: CnnGraphRun ncut ARCH SEEDS [K] [NORM] [EDGES] | CnnGraphRun export ARCH SEED FILE | "
                + "CnnGraphRun shuffle ARCH SEED N [THREADS]");
        System.exit(2);
    }
}
