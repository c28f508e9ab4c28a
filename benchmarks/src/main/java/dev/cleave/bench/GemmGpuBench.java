package dev.cleave.bench;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CudaProbe;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Tensor;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cleave's hand-written CUDA GEMM (the cuda backend's {@code linear_forward}, no bias, no ReLU:
 * y = x w^T) against cuBLAS's {@code cublasSgemm} (FP32, default math mode: no TF32) on the
 * same device buffers: F21's layer shapes at batch 128 (784-256, 256-256, 256-10) and 2048^3.
 * cuBLAS comes from the bytedeco CUDA presets, a dependency of this module only; Cleave itself
 * never calls it. A shape is {@code batch x in x out}; GFLOP/s = 2 batch in out / (us/op) / 1e3.
 *
 * <p>Each invocation launches {@value #LAUNCHES} GEMMs back to back and then waits for the
 * device, so a reported time per op is the kernel's time plus its share of launch cost. The
 * setup checks once that both compute the same y (relative max error below 1e-4).
 *
 * <p>Needs a GPU, the NVIDIA driver (R580+), a build made with nvcc on PATH, and cuBLAS 13
 * ({@code libcublas.so.13}, {@code libcublasLt.so.13}, {@code libcudart.so.13}: a CUDA 13
 * toolkit's lib64 or the nvidia-cublas and nvidia-cuda-runtime wheels' lib folder, on
 * LD_LIBRARY_PATH). Run it through its own main, which says in one line what is missing:
 *
 * <pre>
 * mvn -B -q -DskipTests package
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar dev.cleave.bench.GemmGpuBench \
 *     -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GemmGpuBench {
    /** GEMMs launched per invocation before the one wait for the device. */
    public static final int LAUNCHES = 20;

    /** batch x in x out: F21's layers at batch 128 ({@link Mlp#F21_WIDTHS}), then a large square. */
    @Param({"128x784x256", "128x256x256", "128x256x10", "2048x2048x2048"})
    public String shape;

    private int batch, in, out;
    private Backend backend;
    private CudaApi api;
    private Tensor x, w, y;
    private cublasContext handle;
    private FloatPointer alpha, beta, dx, dw, dy;

    /**
     * Why this benchmark cannot run here (no usable GPU, or no cuBLAS 13), in one line; null when
     * it can.
     */
    public static String problem() {
        CudaProbe probe = CudaProbe.probe();
        if (probe.problem() != null) {
            return "GemmGpuBench needs a GPU: " + probe.problem();
        }
        try {
            Loader.load(cublas.class);
        } catch (LinkageError e) { // UnsatisfiedLinkError, or NoClassDefFoundError after a first failed load
            return "GemmGpuBench needs cuBLAS 13 (libcublas.so.13, libcublasLt.so.13 and libcudart.so.13 on LD_LIBRARY_PATH: "
                    + "a CUDA 13 toolkit's lib64, or the nvidia-cublas and nvidia-cuda-runtime wheels' lib folder): "
                    + String.valueOf(e.getMessage()).replace('\n', ' ');
        }
        return null;
    }

    /** Runs this benchmark through JMH with {@code args} as further JMH options, or says in one line why it cannot. */
    public static void main(String[] args) throws Exception {
        String problem = problem();
        if (problem != null) {
            System.err.println(problem);
            System.exit(2);
        }
        String[] jmh = new String[args.length + 1];
        jmh[0] = GemmGpuBench.class.getName() + "\\.";
        System.arraycopy(args, 0, jmh, 1, args.length);
        org.openjdk.jmh.Main.main(jmh);
    }

    @Setup(Level.Trial)
    public void setUp() {
        String problem = problem();
        if (problem != null) {
            // only when run through JMH's own main (this class's main checks first): JMH reports the failed trial
            throw new IllegalStateException(problem);
        }
        String[] dims = shape.split("x");
        batch = Integer.parseInt(dims[0]);
        in = Integer.parseInt(dims[1]);
        out = Integer.parseInt(dims[2]);
        Device device = Device.resolve("cuda", 1, m -> {});
        backend = device.open();
        api = device.cuda();
        SplittableRandom r = new SplittableRandom(7);
        x = upload(batch, in, r);
        w = upload(out, in, r);
        y = backend.zeros(batch, out);
        check(cudart.cudaSetDevice(device.gpu()), "cudaSetDevice");
        handle = new cublasContext();
        check(cublas.cublasCreate_v2(handle), "cublasCreate");
        check(cublas.cublasSetMathMode(handle, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        alpha = new FloatPointer(1f);
        beta = new FloatPointer(0f);
        dx = new DevicePointer(x.pointer().address());
        dw = new DevicePointer(w.pointer().address());
        dy = new DevicePointer(y.pointer().address());
        requireSameResult();
    }

    private Tensor upload(int rows, int cols, SplittableRandom r) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        Tensor t = backend.zeros(rows, cols);
        t.copyFrom(v);
        return t;
    }

    /** One GEMM each way into y; throws if cuBLAS's y differs from Cleave's by more than 1e-4 of its largest value. */
    private void requireSameResult() {
        cleave();
        api.check(api.synchronize());
        float[] mine = y.toArray();
        y.fill(0f);
        cublasGemm();
        check(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        float[] theirs = y.toArray();
        double max = 0, err = 0;
        for (int i = 0; i < mine.length; i++) {
            max = Math.max(max, Math.abs(theirs[i]));
            err = Math.max(err, Math.abs(mine[i] - theirs[i]));
        }
        if (!(err <= 1e-4 * Math.max(max, 1e-30))) {
            throw new IllegalStateException("linear_forward and cublasSgemm disagree on " + shape + ": max |difference| " + err
                    + " against max |y| " + max);
        }
    }

    private void cleave() {
        backend.linearForward(x, w, null, y, false);
    }

    /** y (batch x out, row-major) = x w^T: column-major, y^T (out x batch) = w (as in x out)^T x^T (in x batch). */
    private void cublasGemm() {
        check(cublas.cublasSgemm_v2(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, out, batch, in, alpha, dw, in, dx, in, beta,
                dy, out), "cublasSgemm");
    }

    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void cleaveLinearForward() {
        for (int i = 0; i < LAUNCHES; i++) {
            cleave();
        }
        api.check(api.synchronize());
    }

    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void cublasSgemm() {
        for (int i = 0; i < LAUNCHES; i++) {
            cublasGemm();
        }
        check(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (handle != null) {
            cublas.cublasDestroy_v2(handle);
        }
        for (Tensor t : new Tensor[] {x, w, y}) {
            if (t != null) {
                t.close();
            }
        }
        if (backend != null) {
            backend.close();
        }
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new IllegalStateException(call + " failed with status " + status);
        }
    }

    /** A device address as a JavaCPP pointer for cuBLAS (not owned: the tensor frees it). */
    private static final class DevicePointer extends FloatPointer {
        DevicePointer(long deviceAddress) {
            address = deviceAddress;
        }
    }
}
