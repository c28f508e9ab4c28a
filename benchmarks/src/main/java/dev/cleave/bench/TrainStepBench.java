package dev.cleave.bench;

import dev.cleave.modular.Enmeshment;
import dev.cleave.nn.Adam;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import java.util.ArrayList;
import java.util.List;
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
 * One training step of F21's MLP (784-256-256-256-256-10, batch 128: forward, softmax
 * cross-entropy, backward, Adam) on the cpu backend, with and without the enmeshment loss, next
 * to the hardware bound measured in the same run by {@link SgemmBench}: OpenBLAS sgemm on large
 * square matrices. Derived rates: samples/s = 128 x steps/s; GFLOP/s = samples/s x
 * {@link #FLOP_PER_SAMPLE}.
 *
 * <pre>
 * mvn -B -q -DskipTests package
 * GOMP_SPINCOUNT=30000 OPENBLAS_CORETYPE=SkylakeX java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar \
 *     'TrainStepBench|SgemmBench' -f 1 -t 1 -wi 3 -i 5 -w 2s -r 2s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TrainStepBench {
    /** FLOPs of forward + backward per sample: 2 x (fwd GEMMs + dW GEMMs + dX GEMMs of layers 1..4). */
    public static final long FLOP_PER_SAMPLE;

    static {
        int[] w = Mlp.F21_WIDTHS;
        long fwd = 0, dx = 0;
        for (int l = 0; l + 1 < w.length; l++) {
            fwd += 2L * w[l] * w[l + 1];
            if (l > 0) {
                dx += 2L * w[l] * w[l + 1];
            }
        }
        FLOP_PER_SAMPLE = 2 * fwd + dx;
    }

    @Param({"1", "2"})
    public int threads;

    /** "none": plain cross-entropy; "enmeshment": plus G24's loss on the three hidden-to-hidden layers (k = 4). */
    @Param({"none", "enmeshment"})
    public String loss;

    private final List<Enmeshment> enmeshment = new ArrayList<>();

    private CpuBackend backend;
    private Mlp model;
    private MlpPass pass;
    private Adam adam;
    private long step;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(threads);
        model = Mlp.glorotUniform(Mlp.F21_WIDTHS, 1);
        pass = new MlpPass(backend, model, 128);
        adam = new Adam(backend, model, 1e-3f);
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < pass.input().size(); i++) {
            pass.input().buffer().put(i, (float) r.nextDouble());
        }
        for (int i = 0; i < 128; i++) {
            pass.labels().set(i, r.nextInt(10));
        }
        if (loss.equals("enmeshment")) {
            for (int l = 1; l <= 3; l++) {
                enmeshment.add(Enmeshment.balanced(256, 256, 4));
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        enmeshment.forEach(Enmeshment::close);
        adam.close();
        pass.close();
        model.close();
        backend.close();
    }

    @Benchmark
    public void trainStep() {
        step++;
        pass.forward(128, 0f, 0, step);
        pass.lossAndBackward(128, 0f);
        for (int i = 0; i < enmeshment.size(); i++) {
            backend.enmeshment(model.weight(i + 1), enmeshment.get(i), -20f / 3, pass.weightGrad(i + 1));
        }
        adam.step(backend, model, pass, null);
    }
}
