package dev.cleave.bench;

import dev.cleave.circuits.EcsResult;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.data.Dataset;
import dev.cleave.nn.Mlp;
import dev.cleave.util.ProgressListener;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * The effective-circuit search of one label (circuit_loss / circuit_prune in
 * native/src/circuits.cpp), naive (one whole-network evaluation per weight) against fast
 * (incremental updates of cached activations), on a Glorot-uniform 64-32-32-32-10 MLP and
 * {@link #IMAGES} random images. Both make the same decisions, so the ratio of their times is
 * the speed-up; derived rate: weights searched per second = {@link #WEIGHTS} / (s/op). The
 * naive path's work is WEIGHTS x IMAGES x WEIGHTS rounded products, so its products/s is the
 * bound a per-weight evaluation could reach. (On a trained F21 MLP the fast path's upper layers
 * are about 99% pruned, which this random model does not show: time that with cleave circuits.)
 *
 * <pre>
 * mvn -B -q -DskipTests package
 * OMP_WAIT_POLICY=passive java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar \
 *     'CircuitsBench' -f 1 -t 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 4)
public class CircuitsBench {
    public static final int[] WIDTHS = {64, 32, 32, 32, 10};
    public static final int IMAGES = 50;
    public static final long WEIGHTS = 64 * 32 + 32 * 32 * 2 + 32 * 10;

    @Param({"fast", "naive"})
    public String method;

    private Mlp model;
    private Dataset data;
    private EffectiveCircuitSize.Options options;

    @Setup(Level.Trial)
    public void setUp() {
        model = Mlp.glorotUniform(WIDTHS, 1);
        SplittableRandom r = new SplittableRandom(2);
        float[] images = new float[IMAGES * WIDTHS[0]];
        for (int i = 0; i < images.length; i++) {
            images[i] = r.nextInt(3) == 0 ? 0f : (float) r.nextDouble();
        }
        data = new Dataset("random", 8, 8, 10, images, new int[IMAGES]); // every image labelled 0
        options = new EffectiveCircuitSize.Options(new int[] {0}, 0, null, method, 1);
    }

    @Benchmark
    public EcsResult searchOneLabel() {
        return EffectiveCircuitSize.run(model, data, options, ProgressListener.NONE);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }
}
