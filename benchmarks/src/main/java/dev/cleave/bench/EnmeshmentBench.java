package dev.cleave.bench;

import dev.cleave.modular.Enmeshment;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
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
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * JMH benchmark of the enmeshment op: C and the gradient added into G ({@code
 * Enmeshment.forwardBackward} on off-heap W and G, the native kernel cleave_enmeshment) for W of
 * 256x256, 1024x1024 and 4096x4096, k = 4, balanced labels, on 1 and 2 OpenMP threads; and, in
 * the same run, this machine's memory bandwidth from a STREAM-like copy of a 256 MB float array
 * (System.arraycopy on the heap, and memcpy between off-heap FloatPointers; one thread each).
 *
 * <p>Bytes moved per enmeshment call: 16 per element of W: W is read twice (pass 1 for the
 * sums, pass 2 for the update) and G is read and written once. A copy moves 8 bytes per float
 * (read + write, as STREAM counts it). {@link #main} runs the benchmarks and prints GB/s for
 * each and the kernel's GB/s as a percentage of the faster copy. At 256x256 and 1024x1024, W and
 * G (0.5 MB, 8 MB) sit in the caches, so those GB/s may exceed the DRAM copy bandwidth.
 *
 * <p>Command (from the repository root; 2 cores, so fork 1, one JMH thread, warmups, and
 * passive OpenMP waiting, which setup enforces):
 *
 * <pre>
 *   mvn -B -q -o -DskipTests package
 *   OMP_WAIT_POLICY=passive java --enable-native-access=ALL-UNNAMED \
 *       -cp benchmarks/target/benchmarks.jar dev.cleave.bench.EnmeshmentBench
 * </pre>
 *
 * (or {@code OMP_WAIT_POLICY=passive java -jar benchmarks/target/benchmarks.jar EnmeshmentBench
 * -f 1 -t 1} for the plain JMH table without the derived GB/s). The comparison the README
 * reports, the kernel against a STREAM-like triad counted with write-allocate and against
 * PyTorch autograd and hand-written PyTorch, interleaved in one run:
 * benchmarks/scripts/enmeshment_compare.py.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class EnmeshmentBench {
    static final int K = 4;
    static final int COPY_FLOATS = 64 << 20; // 256 MB

    /** One layer's off-heap W and gradient buffer, and the op with balanced labels. */
    @State(Scope.Benchmark)
    public static class Layer {
        @Param({"256", "1024", "4096"})
        public int n;

        @Param({"1", "2"})
        public int threads;

        FloatPointer w;
        FloatPointer grad;
        Enmeshment op;

        @Setup(Level.Trial)
        public void setUp() {
            requirePassiveOpenMp();
            CpuKernels.check(CpuKernels.cleave_set_threads(threads));
            SplittableRandom rnd = Rng.stream(1, "enmeshment-bench");
            float[] values = new float[n * n];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (rnd.nextGaussian() / Math.sqrt(n));
            }
            w = new FloatPointer(values.length).put(values);
            grad = new FloatPointer(values.length).zero();
            op = Enmeshment.balanced(n, n, K);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            op.close();
            w.close();
            grad.close();
        }
    }

    /** Source and destination of the STREAM-like copy, on the heap and off it. */
    @State(Scope.Benchmark)
    public static class Stream {
        float[] src;
        float[] dst;
        FloatPointer nativeSrc;
        FloatPointer nativeDst;

        @Setup(Level.Trial)
        public void setUp() {
            requirePassiveOpenMp();
            src = new float[COPY_FLOATS];
            dst = new float[COPY_FLOATS];
            java.util.Arrays.fill(src, 1.0f);
            java.util.Arrays.fill(dst, 2.0f);
            nativeSrc = new FloatPointer(COPY_FLOATS).put(src);
            nativeDst = new FloatPointer(COPY_FLOATS).put(dst);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            nativeSrc.close();
            nativeDst.close();
        }
    }

    /** Forward plus gradient: C, and G += scale * dC/dW (scale = -lambda / layers, G24's lambda 20, 3 layers). */
    @Benchmark
    public double enmeshment(Layer layer) {
        return layer.op.forwardBackward(layer.w, -20.0f / 3, layer.grad);
    }

    @Benchmark
    public float[] streamCopyArray(Stream s) {
        System.arraycopy(s.src, 0, s.dst, 0, COPY_FLOATS);
        return s.dst;
    }

    @Benchmark
    public FloatPointer streamCopyNative(Stream s) {
        Pointer.memcpy(s.nativeDst, s.nativeSrc, (long) COPY_FLOATS * Float.BYTES);
        return s.nativeDst;
    }

    static void requirePassiveOpenMp() {
        if (!"passive".equalsIgnoreCase(System.getenv("OMP_WAIT_POLICY"))) {
            throw new IllegalStateException("run with OMP_WAIT_POLICY=passive: libgomp's busy-wait distorts "
                    + "timings on 2 cores (engineering.md, practice 15)");
        }
    }

    /** Runs the benchmarks (fork 1, one JMH thread) and prints GB/s against the copy bandwidth. */
    public static void main(String[] args) throws RunnerException {
        requirePassiveOpenMp();
        Options options = new OptionsBuilder().include(EnmeshmentBench.class.getName() + "\\.").forks(1).threads(1)
                .build();
        Collection<RunResult> results = new Runner(options).run();

        double copyGbs = 0.0;
        List<String> lines = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            double micros = r.getPrimaryResult().getScore();
            if (name.endsWith(".streamCopyArray") || name.endsWith(".streamCopyNative")) {
                double gbs = 8.0 * COPY_FLOATS / (micros * 1e3);
                copyGbs = Math.max(copyGbs, gbs);
                lines.add(String.format(Locale.ROOT, "%-18s %28s %12.1f us %8.1f GB/s", name.replaceAll(".*\\.", ""),
                        "256 MB", micros, gbs));
            }
        }
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            if (name.endsWith(".enmeshment")) {
                int n = Integer.parseInt(r.getParams().getParam("n"));
                String threads = r.getParams().getParam("threads");
                double micros = r.getPrimaryResult().getScore();
                double gbs = 16.0 * n * n / (micros * 1e3);
                lines.add(String.format(Locale.ROOT, "%-18s %13s, %s thread(s) %12.1f us %8.1f GB/s  %5.0f%% of copy",
                        "enmeshment", n + "x" + n, threads, micros, gbs, 100 * gbs / copyGbs));
            }
        }
        System.out.println();
        System.out.println("enmeshment: 16 bytes moved per element of W (2 reads of W, read + write of G); "
                + "copy: 8 bytes per float");
        lines.forEach(System.out::println);
    }
}
