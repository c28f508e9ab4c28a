package dev.cleave.nativ;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of native/include/cleave_cpu.h (libcleave_cpu). Raw calls: arguments are
 * validated by the callers in {@code dev.cleave.nn.CpuBackend}, and a nonzero status is turned
 * into its typed exception ({@link NativeStatus}) by {@link #check(int)}.
 */
@Platform(include = "cleave_cpu.h", link = "cleave_cpu")
public final class CpuKernels {
    static {
        NativeLibraries.loadOpenBlas();
        Loader.load();
    }

    private CpuKernels() {}

    /**
     * Throws the typed exception of {@code status} ({@link NativeStatus#exception}) carrying the
     * native message when status != 0.
     */
    public static void check(int status) {
        if (status != 0) {
            throw NativeStatus.exception(status, cleave_last_error().getString());
        }
    }

    public static native @Cast("const char*") BytePointer cleave_last_error();

    public static native int cleave_set_threads(int n);

    public static native int cleave_get_threads();

    public static native int cleave_set_blas_threads(int n);

    /** As cleave_set_threads(n), with the team (threads running the parts) following the load. */
    public static native int cleave_set_threads_adaptive(int n);

    /** A fixed team of n threads running the partition of cleave_set_threads (for tests). */
    public static native int cleave_set_team(int n);

    public static native int cleave_get_team();

    /** The adaptive rule: the next team from the current one, the threads set and the free cores. */
    public static native int cleave_team_decision(int team, int max, double freeCores);

    public static native @Cast("const char*") BytePointer cleave_build_info();

    // The spectral regulariser (cleave_cpu.h): Java arrays in place, without copies (critical regions).
    @CriticalRegion
    public static native int cleave_spectral_canonical(@Cast("const int32_t*") int[] widths, int layers, @Const float[] w,
            @Const float[] b, float[] cw, float[] cb, double[] factors);

    @CriticalRegion
    public static native int cleave_spectral_canonical_backward(@Cast("const int32_t*") int[] widths, int layers,
            @Const float[] w, @Const float[] b, @Const double[] factors, float[] gw, float[] gb);

    @CriticalRegion
    public static native int cleave_spectral_gradient(@Cast("const int32_t*") int[] widths, int layers, @Const float[] w,
            int k, @Const double[] mu, @Const double[] vectors, float lambda, float[] grad);

    @CriticalRegion
    public static native int cleave_spectral_reg_graph(SpectralKernels.SpectralOp op, @Cast("const int32_t*") int[] widths,
            int layers, @Const float[] w, @Cast("const int64_t*") long[] rowsAt, float[] abs, double[] degree, double[] scale,
            @Cast("int64_t*") long[] counts);

    public static native int cleave_linear_forward(@Const FloatPointer x, @Const FloatPointer w,
            @Const FloatPointer b, FloatPointer y, int batch, int in, int out, int relu);

    public static native int cleave_linear_backward(@Const FloatPointer x, @Const FloatPointer w,
            @Const FloatPointer y, FloatPointer dy, FloatPointer dx, FloatPointer dw, FloatPointer db,
            int batch, int in, int out, int relu);

    public static native int cleave_softmax_xent(@Const FloatPointer logits,
            @Cast("const int32_t*") IntPointer labels, FloatPointer dlogits, int batch, int classes,
            float gradScale, DoublePointer lossSum, @Cast("int32_t*") IntPointer correct);

    public static native int cleave_dropout_forward(FloatPointer x, FloatPointer mask,
            @Cast("int64_t") long n, float p, @Cast("uint64_t") long seed, @Cast("uint64_t") long stream);

    public static native int cleave_dropout_backward(FloatPointer dy, @Const FloatPointer mask,
            @Cast("int64_t") long n);

    public static native int cleave_weight_penalty(@Const FloatPointer w, FloatPointer g,
            @Cast("int64_t") long n, float l1, float l2, DoublePointer value);

    public static native int cleave_adam_update(FloatPointer w, @Const FloatPointer g, FloatPointer m,
            FloatPointer v, @Const FloatPointer mask, @Cast("int64_t") long n, float lr, float beta1, float beta2,
            float eps, @Cast("int64_t") long step);

    // ---- the fused training step (cleave_cpu.h; the CUDA library's fused ops, same names) ----
    public static native int cleave_linear_dropout_forward(@Const FloatPointer x, @Const FloatPointer w,
            @Const FloatPointer b, FloatPointer y, FloatPointer mask, int batch, int in, int out, int relu, float p,
            @Cast("uint64_t") long seed, @Cast("uint64_t") long stream);

    public static native int cleave_linear_dropout_backward(@Const FloatPointer x, @Const FloatPointer w,
            @Const FloatPointer xMask, @Const FloatPointer dy, FloatPointer dx, FloatPointer dw, FloatPointer db,
            int batch, int in, int out, int reluX);

    public static native int cleave_softmax_xent_record(@Const FloatPointer logits,
            @Cast("const int32_t*") IntPointer labels, FloatPointer dlogits, int batch, int classes, float gradScale,
            DoublePointer record);

    /** The pointer arrays are LongPointers of addresses (host tensors' {@code pointer().address()}). */
    public static native int cleave_adam_update_multi(int count, @Cast("float* const*") LongPointer w,
            @Cast("const float* const*") LongPointer g, @Cast("float* const*") LongPointer m,
            @Cast("float* const*") LongPointer v, @Cast("const float* const*") LongPointer mask,
            @Cast("const int64_t*") LongPointer n, @Const FloatPointer l1, @Const FloatPointer l2, float lr, float beta1,
            float beta2, float eps, @Cast("int64_t") long step);

    /** Java arrays in place (a critical region: no copy of the data set per batch). */
    @CriticalRegion
    public static native int cleave_load_batch(@Const float[] images, @Cast("const int32_t*") int[] labels, int rows,
            @Cast("const int32_t*") int[] order, int first, int batch, int features, FloatPointer x,
            @Cast("int32_t*") IntPointer y);

    public static native int cleave_prune_mask(FloatPointer w, FloatPointer mask, @Cast("int64_t") long n, float sparsity);

    // ==== convolutional ops (issue 11; native/src/conv2d.cpp, pool.cpp, batchnorm.cpp) ====
    public static native int cleave_conv2d_forward(@Const FloatPointer x, @Const FloatPointer w, @Const FloatPointer b,
            FloatPointer y, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride,
            int padding, int relu);

    public static native int cleave_conv2d_backward(@Const FloatPointer x, @Const FloatPointer w, @Const FloatPointer y,
            FloatPointer dy, FloatPointer dx, FloatPointer dw, FloatPointer db, int batch, int inChannels, int height,
            int width, int outChannels, int kernel, int stride, int padding, int relu);

    public static native int cleave_maxpool2d_forward(@Const FloatPointer x, FloatPointer y,
            @Cast("int32_t*") IntPointer argmax, int batch, int channels, int height, int width, int kernel, int stride);

    public static native int cleave_maxpool2d_backward(@Const FloatPointer dy, @Cast("const int32_t*") IntPointer argmax,
            FloatPointer dx, int batch, int channels, int height, int width, int kernel, int stride);

    public static native int cleave_batchnorm2d_forward(@Const FloatPointer x, @Const FloatPointer gamma,
            @Const FloatPointer beta, FloatPointer runningMean, FloatPointer runningVar, FloatPointer y,
            FloatPointer saveMean, FloatPointer saveInvStd, int batch, int channels, int height, int width, int training,
            float momentum, float eps);

    public static native int cleave_batchnorm2d_backward(@Const FloatPointer x, @Const FloatPointer gamma,
            @Const FloatPointer saveMean, @Const FloatPointer saveInvStd, @Const FloatPointer dy, FloatPointer dx,
            FloatPointer dgamma, FloatPointer dbeta, int batch, int channels, int height, int width, int training);
    // ==== end of convolutional ops ====
}
