package dev.cleave.bench;

import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.EigenResult;
import dev.cleave.cluster.LaplacianEigensolver;
import dev.cleave.cluster.NormalizedAdjacency;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Spectral engine benchmarks. Run (2 cores, from the repository root):
 * <pre>
 *   mvn -B -q -o -DskipTests package
 *   OMP_WAIT_POLICY=passive java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar \
 *       Spectral -f 1 -t 1 -wi 3 -i 5
 * </pre>
 * {@code apply*}: one application of the normalized adjacency N (and of the bipartite half M)
 * to a block of 16 vectors; the "flop" counter row gives FLOP/s (2 flops per stored entry per
 * vector; JMH prints it as ops/s): compare with the machine's double-precision FMA peak (2 cores x 16 DP flop/cycle x
 * clock). {@code cluster*}: the full pipeline, graph to labels (eigensolver + 25 k-means++
 * restarts). {@code shuffleTest}: 50 {@code layer} shuffles of the MLP, both cores.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class SpectralBench {
    /** mlp: Glorot 784-256-256-256-256-10 (1818 nodes); 8x1024 / 8x2048: dense random layered. */
    @Param({"mlp", "8x1024"})
    public String graph;

    @Param({"2"})
    public int threads;

    static final int COLS = 16;

    List<FloatMatrix> weights;
    NetworkGraph network;
    NormalizedAdjacency op;
    double[] x;
    double[] y;
    double[] xh;
    double[] yh;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double flop;
    }

    static List<FloatMatrix> weights(String graph) {
        return switch (graph) {
            case "mlp" -> SpectralGraphs.glorot(SpectralGraphs.MLP, 0);
            case "clusterable" -> SpectralGraphs.clusterable(SpectralGraphs.MLP, 0);
            default -> {
                String[] p = graph.split("x");
                yield SpectralGraphs.randomLayered(Integer.parseInt(p[0]), Integer.parseInt(p[1]), 1);
            }
        };
    }

    @Setup(Level.Trial)
    public void setup() {
        weights = weights(graph);
        network = NetworkGraph.fromWeights(weights);
        op = NormalizedAdjacency.of(network, Device.cpu(), threads);
        x = new double[op.size() * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.sin(i);
        }
        y = new double[x.length];
        xh = new double[op.halfSize() * COLS];
        System.arraycopy(x, 0, xh, 0, xh.length);
        yh = new double[xh.length];
    }

    @TearDown(Level.Trial)
    public void teardown() {
        op.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public double applyN(Flops f) {
        op.apply(x, y, COLS);
        f.flop += op.flops() * COLS;
        return y[0];
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public double applyHalf(Flops f) {
        op.applyHalf(xh, yh, COLS);
        f.flop += op.flops() * COLS;
        return yh[0];
    }

    @Benchmark
    public ClusterResult cluster() {
        return SpectralClustering.cluster(network, ClusterOptions.defaults().withThreads(threads));
    }

    /** The eigensolver alone (the first pass of {@code cluster}): 2 Laplacian eigenpairs, default options. */
    @Benchmark
    public EigenResult eigs() {
        return LaplacianEigensolver.smallest(network, ClusterOptions.defaults().withThreads(threads).eigenOptions());
    }

    @Benchmark
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public double shuffleTest() {
        if (!graph.equals("mlp")) {
            return 0; // 50 shuffles of the big graphs would take minutes per iteration
        }
        return ShuffleTest.run(weights, ShuffleOptions.defaults().withCluster(ClusterOptions.defaults().withThreads(threads)),
                null).z();
    }
}
