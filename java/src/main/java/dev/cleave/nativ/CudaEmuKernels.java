package dev.cleave.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of libcleave_cuda_emu (cuda/include/cleave_cuda_emu.h): the kernels of
 * cuda/src compiled by the host compiler and run on the CPU by the emulation harness in
 * cuda/emu, under the names cleave_cuda_emu_*. Same functions and arguments as
 * {@link CudaKernels}; device pointers are addresses of emulated device allocations. Use
 * {@link CudaApi#emulator()} for the interface. Also binds the emulator's controls: the thread
 * schedule, launch statistics and the harness self-tests.
 */
@Platform(include = "cleave_cuda_emu.h", link = "cleave_cuda_emu")
public final class CudaEmuKernels {
    static {
        Loader.load();
    }

    private CudaEmuKernels() {}

    /**
     * Schedules for {@link #cleave_cuda_emu_set_schedule} (cleave_cuda_emu.h): fibers in forward, reverse
     * or shuffled order, OS threads, or fibers in lockstep (forward, one barrier phase at a time).
     */
    public static final int SCHEDULE_FORWARD = 0, SCHEDULE_REVERSE = 1, SCHEDULE_SHUFFLED = 2, SCHEDULE_THREADS = 3,
            SCHEDULE_LOCKSTEP = 4;

    public static native int cleave_cuda_emu_set_schedule(int schedule, @Cast("uint64_t") long seed);

    public static native int cleave_cuda_emu_stats(@Cast("int64_t*") LongPointer launches,
            @Cast("int64_t*") LongPointer blocks, @Cast("int64_t*") LongPointer threads,
            @Cast("int64_t*") LongPointer blockBarriers, @Cast("int64_t*") LongPointer warpBarriers);

    public static native int cleave_cuda_emu_launched(@Cast("char*") BytePointer buf, int len);

    public static native int cleave_cuda_emu_reset_stats();

    /** The SM count the emulated device reports (1..1024; default 4). */
    public static native int cleave_cuda_emu_set_sm_count(int sms);

    /** 0: faults reported by their launch, not sticky (default); 1: as on a GPU, deferred and sticky. */
    public static native int cleave_cuda_emu_set_error_model(int model);

    /** Clears a sticky fault of error model 1 (as cudaDeviceReset would). */
    public static native int cleave_cuda_emu_reset_device();

    public static native int cleave_cuda_emu_set_sync_check(int on);

    public static native int cleave_cuda_emu_sync_check();

    public static native int cleave_cuda_emu_test_launch();

    public static native int cleave_cuda_emu_selftest(String name);

    public static native int cleave_cuda_emu_selftest_names(@Cast("char*") BytePointer buf, int len);

    public static native @Cast("const char*") BytePointer cleave_cuda_emu_last_error();

    /** 1 = built by nvcc, 0 = the stub, 2 = the CPU emulation. */
    public static native int cleave_cuda_emu_is_real();

    public static native int cleave_cuda_emu_runtime_version();

    public static native int cleave_cuda_emu_set_device(int index);

    public static native int cleave_cuda_emu_mem_info(@Cast("int64_t*") LongPointer freeBytes, @Cast("int64_t*") LongPointer totalBytes);

    public static native int cleave_cuda_emu_malloc(@Cast("void**") LongPointer ptr, @Cast("int64_t") long bytes);

    public static native int cleave_cuda_emu_free(@Cast("void*") long ptr);

    public static native int cleave_cuda_emu_memcpy_htod(@Cast("void*") long dst, @Const Pointer src, @Cast("int64_t") long bytes);

    public static native int cleave_cuda_emu_memcpy_dtoh(Pointer dst, @Cast("const void*") long src, @Cast("int64_t") long bytes);

    public static native int cleave_cuda_emu_memcpy_dtod(@Cast("void*") long dst, @Cast("const void*") long src, @Cast("int64_t") long bytes);

    public static native int cleave_cuda_emu_memset(@Cast("void*") long ptr, int value, @Cast("int64_t") long bytes);

    public static native int cleave_cuda_emu_synchronize();

    public static native int cleave_cuda_emu_linear_forward(@Cast("const float*") long x, @Cast("const float*") long w,
            @Cast("const float*") long b, @Cast("float*") long y, int batch, int in, int out, int relu);

    public static native int cleave_cuda_emu_linear_backward(@Cast("const float*") long x, @Cast("const float*") long w,
            @Cast("const float*") long y, @Cast("float*") long dy, @Cast("float*") long dx, @Cast("float*") long dw,
            @Cast("float*") long db, int batch, int in, int out, int relu);

    public static native int cleave_cuda_emu_softmax_xent(@Cast("const float*") long logits, @Cast("const int32_t*") long labels,
            @Cast("float*") long dlogits, int batch, int classes, float gradScale, DoublePointer lossSum,
            @Cast("int32_t*") IntPointer correct);

    public static native int cleave_cuda_emu_dropout_forward(@Cast("float*") long x, @Cast("float*") long mask,
            @Cast("int64_t") long n, float p, @Cast("uint64_t") long seed, @Cast("uint64_t") long stream);

    public static native int cleave_cuda_emu_dropout_backward(@Cast("float*") long dy, @Cast("const float*") long mask,
            @Cast("int64_t") long n);

    public static native int cleave_cuda_emu_weight_penalty(@Cast("const float*") long w, @Cast("float*") long g,
            @Cast("int64_t") long n, float l1, float l2, DoublePointer value);

    public static native int cleave_cuda_emu_adam_update(@Cast("float*") long w, @Cast("const float*") long g,
            @Cast("float*") long m, @Cast("float*") long v, @Cast("const float*") long mask, @Cast("int64_t") long n,
            float lr, float beta1, float beta2, float eps, @Cast("int64_t") long step);

    public static native int cleave_cuda_emu_enmeshment(@Cast("const float*") long w, @Cast("const int32_t*") long rowLabels,
            @Cast("const int32_t*") long colLabels, int rows, int cols, int k, float scale, @Cast("float*") long grad,
            DoublePointer cOut);

    // ---- the spectral engine: device operator, eigensolver block kernels, k-means assignment ----

    public static native int cleave_cuda_emu_spectral_op_create(@Cast("int64_t") long n, @Cast("int64_t") long half, @Const DoublePointer scale, @Cast("cleave_cuda_spectral_op**") LongPointer out);

    public static native int cleave_cuda_emu_spectral_op_add_dense(@Cast("cleave_cuda_spectral_op*") long op, @Cast("int64_t") long dst, @Cast("int64_t") long rows, @Cast("int64_t") long src, @Cast("int64_t") long cols, @Const FloatPointer a, int mirror);

    public static native int cleave_cuda_emu_spectral_op_add_csr(@Cast("cleave_cuda_spectral_op*") long op, @Cast("int64_t") long dst, @Cast("int64_t") long rows, @Cast("int64_t") long src, @Cast("int64_t") long cols, @Cast("const int64_t*") LongPointer offsets, @Cast("const int32_t*") IntPointer columns, @Const FloatPointer weights);

    public static native int cleave_cuda_emu_spectral_op_free(@Cast("cleave_cuda_spectral_op*") long op);

    public static native int cleave_cuda_emu_spectral_op_apply(@Cast("const cleave_cuda_spectral_op*") long op, int which, @Cast("const double*") long x, @Cast("double*") long y, int cols);

    public static native int cleave_cuda_emu_block_gram(@Cast("int64_t") long n, @Cast("const double*") long x, @Cast("int64_t") long ldx, int a, @Cast("const double*") long y, @Cast("int64_t") long ldy, int b, @Cast("double*") long g);

    public static native int cleave_cuda_emu_block_sub_mul(@Cast("int64_t") long n, @Cast("const double*") long x, @Cast("int64_t") long ldx, int a, @Cast("const double*") long g, @Cast("double*") long y, @Cast("int64_t") long ldy, int b);

    public static native int cleave_cuda_emu_block_mul_square(@Cast("int64_t") long n, @Cast("double*") long x, @Cast("int64_t") long ldx, int c, @Cast("const double*") long q);

    public static native int cleave_cuda_emu_block_residuals(@Cast("int64_t") long n, @Cast("const double*") long x, @Cast("const double*") long ax, @Cast("int64_t") long ld, int k, @Const DoublePointer theta, DoublePointer out);

    public static native int cleave_cuda_emu_block_chebyshev_step(@Cast("int64_t") long count, double f, double c, double g, @Cast("const double*") long y0, @Cast("const double*") long y1, @Cast("double*") long y2);

    public static native int cleave_cuda_emu_block_copy(@Cast("int64_t") long n, @Cast("const double*") long src, @Cast("int64_t") long lds, int s0, @Cast("double*") long dst, @Cast("int64_t") long ldd, int d0, int c);

    public static native int cleave_cuda_emu_kmeans_assign(@Cast("const double*") long x, @Cast("int64_t") long n, int d, @Cast("const double*") long centers, int k, @Cast("int32_t*") long labels, @Cast("double*") long dist);

    // ==== convolutional ops (issue 11): cuda/src/conv2d.cu, pool.cu, batchnorm.cu ====
    public static native int cleave_cuda_emu_conv2d_forward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long b, @Cast("float*") long y, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int relu);

    public static native int cleave_cuda_emu_conv2d_backward(@Cast("const float*") long x, @Cast("const float*") long w, @Cast("const float*") long y, @Cast("float*") long dy, @Cast("float*") long dx, @Cast("float*") long dw, @Cast("float*") long db, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int relu);

    public static native int cleave_cuda_emu_maxpool2d_forward(@Cast("const float*") long x, @Cast("float*") long y, @Cast("int32_t*") long argmax, int batch, int channels, int height, int width, int kernel, int stride);

    public static native int cleave_cuda_emu_maxpool2d_backward(@Cast("const float*") long dy, @Cast("const int32_t*") long argmax, @Cast("float*") long dx, int batch, int channels, int height, int width, int kernel, int stride);

    public static native int cleave_cuda_emu_batchnorm2d_forward(@Cast("const float*") long x, @Cast("const float*") long gamma, @Cast("const float*") long beta, @Cast("float*") long runningMean, @Cast("float*") long runningVar, @Cast("float*") long y, @Cast("float*") long saveMean, @Cast("float*") long saveInvStd, int batch, int channels, int height, int width, int training, float momentum, float eps);

    public static native int cleave_cuda_emu_batchnorm2d_backward(@Cast("const float*") long x, @Cast("const float*") long gamma, @Cast("const float*") long saveMean, @Cast("const float*") long saveInvStd, @Cast("const float*") long dy, @Cast("float*") long dx, @Cast("float*") long dgamma, @Cast("float*") long dbeta, int batch, int channels, int height, int width, int training);
    // ==== end of convolutional ops ====
}
