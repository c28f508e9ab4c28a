package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of native/include/cleave_spectral.h (the spectral engine in libcleave_cpu):
 * spectral_op, its block application, spectral_dense_eigs, the block kernels and kmeans. Raw calls: the callers in
 * {@code dev.cleave.cluster} validate arguments first, and a nonzero status becomes a
 * {@link NativeException} through {@link CpuKernels#check(int)}. Arrays are copied per call
 * (construction and results only); the operator's weights live off-heap in the op, which its
 * owner frees with {@link #cleave_spectral_op_free}.
 */
@Platform(include = "cleave_spectral.h", link = "cleave_cpu")
public final class SpectralKernels {
    static {
        NativeLibraries.loadOpenBlas();
        Loader.load();
    }

    private SpectralKernels() {}

    /** Handle of a native cleave_spectral_op. */
    @Opaque
    @Name("cleave_spectral_op")
    public static class SpectralOp extends Pointer {
        public SpectralOp() {
            super((Pointer) null);
        }

        public SpectralOp(Pointer p) {
            super(p);
        }
    }

    public static final int N = 0;
    public static final int M = 1;

    public static native int cleave_spectral_op_create(@Cast("int64_t") long n, @Cast("int64_t") long half,
            @Const double[] scale, @ByPtrPtr SpectralOp out);

    public static native int cleave_spectral_op_add_dense(SpectralOp op, @Cast("int64_t") long dst,
            @Cast("int64_t") long rows, @Cast("int64_t") long src, @Cast("int64_t") long cols, @Const float[] a,
            int mirror, int threads);

    public static native int cleave_spectral_op_add_csr(SpectralOp op, @Cast("int64_t") long dst,
            @Cast("int64_t") long rows, @Cast("int64_t") long src, @Cast("int64_t") long cols,
            @Cast("const int64_t*") long[] offsets, @Cast("const int32_t*") int[] columns, @Const float[] weights);

    public static native void cleave_spectral_op_free(SpectralOp op);

    public static native @Cast("int64_t") long cleave_spectral_op_bytes(@Const SpectralOp op);

    public static native double cleave_spectral_op_flops(@Const SpectralOp op, int which);

    public static native int cleave_spectral_op_apply(@Const SpectralOp op, int which, @Const double[] x,
            double[] y, int cols, int threads);

    /** Handle of a native cleave_spectral_work (the scratch space of block applications). */
    @Opaque
    @Name("cleave_spectral_work")
    public static class SpectralWork extends Pointer {
        public SpectralWork() {
            super((Pointer) null);
        }

        public SpectralWork(Pointer p) {
            super(p);
        }
    }

    public static native int cleave_spectral_work_create(@ByPtrPtr SpectralWork out);

    public static native void cleave_spectral_work_free(SpectralWork work);

    public static native int cleave_spectral_op_apply_block(@Const SpectralOp op, int which, @Const DoublePointer x,
            @Cast("int64_t") long ldx, DoublePointer y, @Cast("int64_t") long ldy, int cols, int threads,
            SpectralWork work);

    public static native int cleave_spectral_dense_eigs(@Const SpectralOp op, int which, int k, int threads,
            double[] values, double[] vectors, double[] residuals);

    public static native int cleave_kmeans(@Const double[] x, @Cast("int64_t") long n, int d, int k, int nInit,
            int maxIter, double tol, @Cast("const uint64_t*") long[] seeds, int threads,
            @Cast("int32_t*") int[] labels, double[] centers, double[] inertia, @Cast("int32_t*") int[] stats);

    // ---- block kernels (the eigensolver's and k-means' building blocks; CUDA twins of the same names) ----

    public static native int cleave_block_gram(@Cast("int64_t") long n, @Const double[] x, @Cast("int64_t") long ldx,
            int a, @Const double[] y, @Cast("int64_t") long ldy, int b, double[] g, int threads);

    public static native int cleave_block_sub_mul(@Cast("int64_t") long n, @Const double[] x, @Cast("int64_t") long ldx,
            int a, @Const double[] g, double[] y, @Cast("int64_t") long ldy, int b, int threads);

    public static native int cleave_block_mul_square(@Cast("int64_t") long n, double[] x, @Cast("int64_t") long ldx,
            int c, @Const double[] q, int threads);

    public static native int cleave_block_residuals(@Cast("int64_t") long n, @Const double[] x, @Const double[] ax,
            @Cast("int64_t") long ld, int k, @Const double[] theta, double[] out, int threads);

    public static native int cleave_block_chebyshev_step(@Cast("int64_t") long count, double f, double c, double g,
            @Const double[] y0, @Const double[] y1, double[] y2, int threads);

    public static native int cleave_block_copy(@Cast("int64_t") long n, @Const double[] src, @Cast("int64_t") long lds,
            int s0, double[] dst, @Cast("int64_t") long ldd, int d0, int c);

    // The same kernels on off-heap blocks (the eigensolver's NativeBlocks); small matrices as arrays.

    public static native int cleave_block_gram(@Cast("int64_t") long n, @Const DoublePointer x,
            @Cast("int64_t") long ldx, int a, @Const DoublePointer y, @Cast("int64_t") long ldy, int b, double[] g,
            int threads);

    public static native int cleave_block_sub_mul(@Cast("int64_t") long n, @Const DoublePointer x,
            @Cast("int64_t") long ldx, int a, @Const double[] g, DoublePointer y, @Cast("int64_t") long ldy, int b,
            int threads);

    public static native int cleave_block_mul_square(@Cast("int64_t") long n, DoublePointer x, @Cast("int64_t") long ldx,
            int c, @Const double[] q, int threads);

    public static native int cleave_block_residuals(@Cast("int64_t") long n, @Const DoublePointer x,
            @Const DoublePointer ax, @Cast("int64_t") long ld, int k, @Const double[] theta, double[] out, int threads);

    public static native int cleave_block_chebyshev_step(@Cast("int64_t") long count, double f, double c, double g,
            @Const DoublePointer y0, @Const DoublePointer y1, DoublePointer y2, int threads);

    public static native int cleave_block_copy(@Cast("int64_t") long n, @Const DoublePointer src,
            @Cast("int64_t") long lds, int s0, DoublePointer dst, @Cast("int64_t") long ldd, int d0, int c);

    public static native int cleave_block_orthonormalize(@Cast("int64_t") long n, DoublePointer x,
            @Cast("int64_t") long ldx, int c, int threads);

    public static native int cleave_kmeans_assign(@Const double[] x, @Cast("int64_t") long n, int d,
            @Const double[] centers, int k, @Cast("int32_t*") int[] labels, double[] dist);
}
