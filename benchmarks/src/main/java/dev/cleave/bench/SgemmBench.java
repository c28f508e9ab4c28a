package dev.cleave.bench;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nn.CpuBackend;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
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
 * The machine's practical FLOP bound: OpenBLAS sgemm (the same library the cpu backend calls) on
 * n x n x n matrices. GFLOP/s = 2 n^3 x ops/s / 1e9. Run it in the same JMH run as
 * {@link TrainStepBench} (see there) so ratios compare like with like.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SgemmBench {
    @Param({"1", "2"})
    public int threads;

    @Param({"2048"})
    public int n;

    private CpuBackend backend;
    private FloatPointer a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(threads);
        CpuKernels.check(CpuKernels.cleave_set_blas_threads(threads)); // sgemm alone uses OpenBLAS's own threads
        long size = (long) n * n;
        a = new FloatPointer(size);
        b = new FloatPointer(size);
        c = new FloatPointer(size);
        SplittableRandom r = new SplittableRandom(3);
        for (long i = 0; i < size; i++) {
            a.put(i, (float) r.nextDouble());
            b.put(i, (float) r.nextDouble());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        c.close();
        backend.close();
    }

    @Benchmark
    public void sgemmSquare() {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, n, n, n, 1f, a, n, b, n, 0f, c, n);
    }
}
