package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The C ABI of cuda/include/cleave_cuda.h, bound once for both libraries that implement it: the
 * real library ({@link #device()}: libcleave_cuda, the nvcc build or its stub) and the CPU
 * emulation of the same kernel sources ({@link #emulator()}: libcleave_cuda_emu). Each library
 * exports a table of its functions (struct cleave_cuda_api, generated from the op list
 * cuda/include/cleave_cuda_ops.h); an instance of this class is that table, and each native method
 * below calls one entry of it ({@code @Name} is the entry's name). So an op is declared once in C
 * (its line in cleave_cuda_ops.h) and once in Java (its method here), whichever library runs it.
 * Code written against this class (a {@code cuda} Backend, the parity tests) runs unchanged on
 * both, so everything but the GPU itself is tested on machines without one. The tables are static
 * in their libraries: {@link #close()} and {@link #deallocate()} do nothing.
 *
 * <p>Conventions, as in the header: every method returns 0 or a nonzero status whose message is
 * {@link #lastError()} (turn it into an exception with {@link #check(int)}); device pointers are
 * {@code long} addresses from {@link #mallocOrThrow(long)} (0 is NULL); host results come back through
 * JavaCPP pointers. Kernel arguments mirror the cpu ABI ({@link CpuKernels}, {@link ModularKernels})
 * in name and order. Kernels run on the calling thread's current device and the default stream,
 * in call order; ops with a host result (softmax_xent, weight_penalty, enmeshment) wait for it.
 * Validate shapes in Java first (as {@code dev.cleave.nn.Backend} does): the native checks are a
 * second line of defence and cannot tell a host address from a device address on a real GPU.
 */
@Platform(include = "cleave_cuda.h")
@Name("cleave_cuda_api")
public final class CudaApi extends Pointer {
    static {
        Loader.load();
    }

    private static volatile CudaApi device, emulator;

    /** A table returned by a library's {@code cleave_cuda_table()} (JavaCPP's cast constructor). */
    public CudaApi(Pointer p) {
        super(p);
    }

    /** libcleave_cuda: the nvcc-built kernels (or the stub, whose every call fails with the reason). */
    public static CudaApi device() {
        CudaApi d = device;
        if (d == null) {
            device = d = CudaLib.cleave_cuda_table();
        }
        return d;
    }

    /** libcleave_cuda_emu: the same kernels run on the CPU by the emulation harness (cuda/emu). */
    public static CudaApi emulator() {
        CudaApi e = emulator;
        if (e == null) {
            emulator = e = CudaEmuKernels.cleave_cuda_emu_table();
        }
        return e;
    }

    /** Does nothing: the table is static in its library. */
    @Override
    public void close() {}

    /** Does nothing: the table is static in its library. */
    @Override
    public void deallocate() {}




    // ---- library and devices (what dev.cleave.nn.CudaProbe asks before choosing a device) ----
    /** CUDA runtime version the library was built with (13000 for 13.0), 0 for the stub. */
    @Name("runtime_version") public native int runtimeVersion();

    /** Writes the driver's CUDA version, 0 when no driver was found. */
    @Name("driver_version") public native int driverVersion(IntPointer version);

    /** Writes the number of usable devices; fails with the reason when there is none. */
    @Name("device_count") public native int deviceCount(IntPointer count);

    /** Describes device {@code index} without creating a context on it (cleave_cuda_ops.h). */
    @Name("device_info") public native int deviceInfo(int index, @Cast("char*") BytePointer name, int nameLen,
            IntPointer major, IntPointer minor, @Cast("long long*") LongPointer totalMem, IntPointer hasKernelImage);

    /** The architectures compiled in (major * 10 + minor): up to {@code max} of each. */
    @Name("kernel_archs") public native int kernelArchs(IntPointer sass, IntPointer nSass, IntPointer ptx, IntPointer nPtx,
            int max);

    /** Device {@code index}'s compute mode, SM count and FP32:FP64 throughput ratio. */
    @Name("device_attrs") public native int deviceAttrs(int index, IntPointer computeMode, IntPointer smCount,
            IntPointer fp64Ratio);

    /** Launches a tiny kernel on the process's device and waits for it (where a PTX-only GPU compiles). */
    @Name("test_launch") public native int testLaunch();

    /** "cuda" or "cuda-emu". */
    public String name() {
        return buildKind() == 2 ? "cuda-emu" : "cuda";
    }

    /** 1 = built by nvcc, 0 = the stub, 2 = the CPU emulation. */
    @Name("is_real") public native int buildKind();

    @Name("last_error") private native @Cast("const char*") BytePointer lastErrorPointer();

    /** Message of the last failed call on this thread. */
    public String lastError() {
        return lastErrorPointer().getString();
    }

    /**
     * Throws the typed exception of {@code status} ({@link NativeStatus#exception}: a bad argument,
     * a non-finite number, a device error) with {@link #lastError()} when status != 0.
     */
    public void check(int status) {
        if (status != 0) {
            throw NativeStatus.exception(status, lastError());
        }
    }

    // ---- devices and memory ----
    /** Makes device {@code index} the process's device for every host thread, creating its context. */
    @Name("set_device") public native int setDevice(int index);

    /**
     * The synchronous checking mode: every launch waits for its kernel, so a fault is reported by
     * the op whose kernel faulted (also on with CLEAVE_CUDA_SYNC=1 in the environment).
     */
    public int setSyncCheck(boolean on) {
        return setSyncCheck(on ? 1 : 0);
    }

    @Name("set_sync_check") private native int setSyncCheck(int on);

    @Name("sync_check") private native int syncCheckMode();

    /** Whether the synchronous checking mode is on. */
    public boolean syncCheck() {
        return syncCheckMode() != 0;
    }

    @Name("mem_info") public native int memInfo(@Cast("int64_t*") LongPointer freeBytes, @Cast("int64_t*") LongPointer totalBytes);

    @Name("malloc") public native int malloc(@Cast("void**") LongPointer ptr, @Cast("int64_t") long bytes);

    @Name("free") public native int free(@Cast("void*") long ptr);

    @Name("memcpy_htod") public native int memcpyHtoD(@Cast("void*") long dst, @Const Pointer src, @Cast("int64_t") long bytes);

    @Name("memcpy_dtoh") public native int memcpyDtoH(Pointer dst, @Cast("const void*") long src, @Cast("int64_t") long bytes);

    @Name("memcpy_dtod") public native int memcpyDtoD(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("int64_t") long bytes);

    @Name("memset") public native int memset(@Cast("void*") long ptr, int value, @Cast("int64_t") long bytes);

    @Name("synchronize") public native int synchronize();

    /** Pinned host memory (a host address; 0 for 0 bytes), the source memcpyHtoDAsync needs to return at once. */
    @Name("host_alloc") public native int hostAlloc(@Cast("void**") LongPointer ptr, @Cast("int64_t") long bytes);

    @Name("host_free") public native int hostFree(@Cast("void*") long ptr);

    /** Queues a host-to-device copy on the default stream; returns at once when src is pinned. */
    @Name("memcpy_htod_async") public native int memcpyHtoDAsync(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("int64_t") long bytes);

    @Name("event_create") public native int eventCreate(@Cast("void**") LongPointer event);

    @Name("event_record") public native int eventRecord(@Cast("void*") long event);

    @Name("event_synchronize") public native int eventSynchronize(@Cast("void*") long event);

    @Name("event_destroy") public native int eventDestroy(@Cast("void*") long event);

    /**
     * Allocates {@code bytes} of device memory and returns its address; throws {@link NativeException}
     * when the device has too little. (Not {@code malloc(long)}: {@link Pointer#malloc(long)} has that.)
     */
    public long mallocOrThrow(long bytes) {
        try (LongPointer p = new LongPointer(1)) {
            check(malloc(p, bytes));
            return p.get();
        }
    }

    // ---- kernels: same names and argument order as the cpu ABI ----
    @Name("linear_forward") public native int linearForward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long b, @Cast("float*") long y, int batch, int in, int out, int relu);

    @Name("linear_backward") public native int linearBackward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long y, @Cast("float*") long dy, @Cast("float*") long dx, @Cast("float*") long dw, @Cast("float*") long db, int batch, int in, int out, int relu);

    @Name("softmax_xent") public native int softmaxXent(@Cast("const float*") long logits, @Cast("const int32_t*") long labels, @Cast("float*") long dlogits, int batch, int classes, float gradScale, DoublePointer lossSum, @Cast("int32_t*") IntPointer correct);

    @Name("dropout_forward") public native int dropoutForward(@Cast("float*") long x, @Cast("float*") long mask, @Cast("int64_t") long n, float p, @Cast("uint64_t") long seed, @Cast("uint64_t") long stream);

    @Name("dropout_backward") public native int dropoutBackward(@Cast("float*") long dy, @Cast("const float*") long mask, @Cast("int64_t") long n);

    @Name("weight_penalty") public native int weightPenalty(@Cast("const float*") long w, @Cast("float*") long g, @Cast("int64_t") long n, float l1, float l2, DoublePointer value);

    @Name("adam_update") public native int adamUpdate(@Cast("float*") long w, @Cast("const float*") long g, @Cast("float*") long m, @Cast("float*") long v, @Cast("const float*") long mask, @Cast("int64_t") long n, float lr, float beta1, float beta2, float eps, @Cast("int64_t") long step);

    // ---- the fused training step (cleave_cuda_ops.h; cpu twins in CpuKernels) ----
    @Name("linear_dropout_forward") public native int linearDropoutForward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long b, @Cast("float*") long y, @Cast("float*") long mask, int batch, int in, int out, int relu, float p, @Cast("uint64_t") long seed, @Cast("uint64_t") long stream);

    @Name("linear_dropout_backward") public native int linearDropoutBackward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long xMask, @Cast("const float*") long dy, @Cast("float*") long dx, @Cast("float*") long dw, @Cast("float*") long db, int batch, int in, int out, int reluX);

    /** record: a device address of CLEAVE_XENT_RECORD (5) doubles. */
    @Name("softmax_xent_record") public native int softmaxXentRecord(@Cast("const float*") long logits, @Cast("const int32_t*") long labels, @Cast("float*") long dlogits, int batch, int classes, float gradScale, @Cast("double*") long record);

    /** w, g, m, v, mask: host arrays of device addresses; n, l1, l2: host arrays of values. */
    @Name("adam_update_multi") public native int adamUpdateMulti(int count, @Cast("float* const*") LongPointer w, @Cast("const float* const*") LongPointer g, @Cast("float* const*") LongPointer m, @Cast("float* const*") LongPointer v, @Cast("const float* const*") LongPointer mask, @Cast("const int64_t*") LongPointer n, @Const FloatPointer l1, @Const FloatPointer l2, float lr, float beta1, float beta2, float eps, @Cast("int64_t") long step);

    @Name("enmeshment") public native int enmeshment(@Cast("const float*") long w, @Cast("const int32_t*") long rowLabels, @Cast("const int32_t*") long colLabels, int rows, int cols, int slice, int k, float scale, @Cast("float*") long grad, DoublePointer cOut);

    // ---- the spectral engine (cleave_cuda.h: spectral_op_*, block_*, kmeans_assign; cpu twins in SpectralKernels) ----
    // The op handle is a host address (long); host arrays are JavaCPP pointers; blocks are device addresses.

    @Name("spectral_op_create") public native int spectralOpCreate(@Cast("int64_t") long n, @Cast("int64_t") long half, @Const DoublePointer scale, @Cast("cleave_cuda_spectral_op**") LongPointer out);

    @Name("spectral_op_add_dense") public native int spectralOpAddDense(@Cast("cleave_cuda_spectral_op*") long op, @Cast("int64_t") long dst, @Cast("int64_t") long rows, @Cast("int64_t") long src, @Cast("int64_t") long cols, @Const FloatPointer a, int mirror);

    @Name("spectral_op_add_csr") public native int spectralOpAddCsr(@Cast("cleave_cuda_spectral_op*") long op, @Cast("int64_t") long dst, @Cast("int64_t") long rows, @Cast("int64_t") long src, @Cast("int64_t") long cols, @Cast("const int64_t*") LongPointer offsets, @Cast("const int32_t*") IntPointer columns, @Const FloatPointer weights);

    @Name("spectral_op_free") public native int spectralOpFree(@Cast("cleave_cuda_spectral_op*") long op);

    @Name("spectral_op_apply") public native int spectralOpApply(@Cast("const cleave_cuda_spectral_op*") long op, int which, @Cast("const double*") long x, @Cast("double*") long y, int cols);

    @Name("block_gram") public native int blockGram(@Cast("int64_t") long n, @Cast("const double*") long x, @Cast("int64_t") long ldx, int a, @Cast("const double*") long y, @Cast("int64_t") long ldy, int b, @Cast("double*") long g);

    @Name("block_sub_mul") public native int blockSubMul(@Cast("int64_t") long n, @Cast("const double*") long x, @Cast("int64_t") long ldx, int a, @Cast("const double*") long g, @Cast("double*") long y, @Cast("int64_t") long ldy, int b);

    @Name("block_mul_square") public native int blockMulSquare(@Cast("int64_t") long n, @Cast("double*") long x, @Cast("int64_t") long ldx, int c, @Cast("const double*") long q);

    @Name("block_residuals") public native int blockResiduals(@Cast("int64_t") long n, @Cast("const double*") long x, @Cast("const double*") long ax, @Cast("int64_t") long ld, int k, @Const DoublePointer theta, DoublePointer out);

    @Name("block_chebyshev_step") public native int blockChebyshevStep(@Cast("int64_t") long count, double f, double c, double g, @Cast("const double*") long y0, @Cast("const double*") long y1, @Cast("double*") long y2);

    @Name("block_copy") public native int blockCopy(@Cast("int64_t") long n, @Cast("const double*") long src, @Cast("int64_t") long lds, int s0, @Cast("double*") long dst, @Cast("int64_t") long ldd, int d0, int c);

    @Name("kmeans_assign") public native int kmeansAssign(@Cast("const double*") long x, @Cast("int64_t") long n, int d, @Cast("const double*") long centers, int k, @Cast("int32_t*") long labels, @Cast("double*") long dist);

    // ==== convolutional ops (issue 11; cuda/src/conv2d.cu, pool.cu, batchnorm.cu; cpu twins in CpuKernels) ====
    @Name("conv2d_forward") public native int conv2dForward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long b, @Cast("float*") long y, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int relu);

    @Name("conv2d_backward") public native int conv2dBackward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long y, @Cast("float*") long dy, @Cast("float*") long dx, @Cast("float*") long dw, @Cast("float*") long db, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int relu);

    @Name("maxpool2d_forward") public native int maxpool2dForward(@Cast("const float*") long x, @Cast("float*") long y, @Cast("int32_t*") long argmax, int batch, int channels, int height, int width, int kernel, int stride);

    @Name("maxpool2d_backward") public native int maxpool2dBackward(@Cast("const float*") long dy, @Cast("const int32_t*") long argmax, @Cast("float*") long dx, int batch, int channels, int height, int width, int kernel, int stride);

    @Name("batchnorm2d_forward") public native int batchnorm2dForward(@Cast("const float*") long x, @Cast("const float*") long gamma, @Cast("const float*") long beta, @Cast("float*") long runningMean, @Cast("float*") long runningVar, @Cast("float*") long y, @Cast("float*") long saveMean, @Cast("float*") long saveInvStd, int batch, int channels, int height, int width, int training, float momentum, float eps);

    @Name("batchnorm2d_backward") public native int batchnorm2dBackward(@Cast("const float*") long x, @Cast("const float*") long gamma, @Cast("const float*") long saveMean, @Cast("const float*") long saveInvStd, @Cast("const float*") long dy, @Cast("float*") long dx, @Cast("float*") long dgamma, @Cast("float*") long dbeta, int batch, int channels, int height, int width, int training);
    // ==== end of convolutional ops ====
}
