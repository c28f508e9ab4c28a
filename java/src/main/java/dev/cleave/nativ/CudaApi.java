package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The C ABI of cuda/include/cleave_cuda.h behind one interface, implemented twice: by the real
 * library ({@link #device()}: libcleave_cuda, the nvcc build or its stub) and by the CPU
 * emulation of the same kernel sources ({@link #emulator()}: libcleave_cuda_emu). Code written
 * against this interface (a {@code cuda} Backend, the parity tests) runs unchanged on both, so
 * everything but the GPU itself is tested on machines without one.
 *
 * <p>Conventions, as in the header: every method returns 0 or a nonzero status whose message is
 * {@link #lastError()} (turn it into an exception with {@link #check(int)}); device pointers are
 * {@code long} addresses from {@link #malloc(long)} (0 is NULL); host results come back through
 * JavaCPP pointers. Kernel arguments mirror the cpu ABI ({@link CpuKernels}, {@link ModularKernels})
 * in name and order. Kernels run on the calling thread's current device and the default stream,
 * in call order; ops with a host result (softmax_xent, weight_penalty, enmeshment) wait for it.
 * Validate shapes in Java first (as {@code dev.cleave.nn.Backend} does): the native checks are a
 * second line of defence and cannot tell a host address from a device address on a real GPU.
 */
public interface CudaApi {

    /** libcleave_cuda: the nvcc-built kernels (or the stub, whose every call fails with the reason). */
    static CudaApi device() {
        return CudaDeviceApi.INSTANCE;
    }

    /** libcleave_cuda_emu: the same kernels run on the CPU by the emulation harness (cuda/emu). */
    static CudaApi emulator() {
        return CudaEmuApi.INSTANCE;
    }

    /** "cuda" or "cuda-emu". */
    String name();

    /** 1 = built by nvcc, 0 = the stub, 2 = the CPU emulation. */
    int buildKind();

    /** Message of the last failed call on this thread. */
    String lastError();

    /**
     * Throws the typed exception of {@code status} ({@link NativeStatus#exception}: a bad argument,
     * a non-finite number, a device error) with {@link #lastError()} when status != 0.
     */
    default void check(int status) {
        if (status != 0) {
            throw NativeStatus.exception(status, lastError());
        }
    }

    // ---- devices and memory ----
    int setDevice(int index);

    int memInfo(LongPointer freeBytes, LongPointer totalBytes);

    int malloc(LongPointer ptr, long bytes);

    int free(long ptr);

    int memcpyHtoD(long dst, Pointer src, long bytes);

    int memcpyDtoH(Pointer dst, long src, long bytes);

    int memcpyDtoD(long dst, long src, long bytes);

    int memset(long ptr, int value, long bytes);

    int synchronize();

    /** Allocates {@code bytes} of device memory; throws {@link NativeException} when the device has too little. */
    default long malloc(long bytes) {
        try (LongPointer p = new LongPointer(1)) {
            check(malloc(p, bytes));
            return p.get();
        }
    }

    // ---- kernels: same names and argument order as the cpu ABI ----
    int linearForward(long x, long w, long b, long y, int batch, int in, int out, int relu);

    int linearBackward(long x, long w, long y, long dy, long dx, long dw, long db, int batch, int in, int out,
            int relu);

    int softmaxXent(long logits, long labels, long dlogits, int batch, int classes, float gradScale,
            DoublePointer lossSum, IntPointer correct);

    int dropoutForward(long x, long mask, long n, float p, long seed, long stream);

    int dropoutBackward(long dy, long mask, long n);

    int weightPenalty(long w, long g, long n, float l1, float l2, DoublePointer value);

    int adamUpdate(long w, long g, long m, long v, long mask, long n, float lr, float beta1, float beta2, float eps,
            long step);

    int enmeshment(long w, long rowLabels, long colLabels, int rows, int cols, int k, float scale, long grad,
            DoublePointer cOut);

    // ---- the spectral engine (cleave_cuda.h: spectral_op_*, block_*, kmeans_assign; cpu twins in SpectralKernels) ----
    // The op handle is a host address (long); host arrays are JavaCPP pointers; blocks are device addresses.

    int spectralOpCreate(long n, long half, DoublePointer scale, LongPointer out);

    int spectralOpAddDense(long op, long dst, long rows, long src, long cols, FloatPointer a, int mirror);

    int spectralOpAddCsr(long op, long dst, long rows, long src, long cols, LongPointer offsets, IntPointer columns, FloatPointer weights);

    int spectralOpFree(long op);

    int spectralOpApply(long op, int which, long x, long y, int cols);

    int blockGram(long n, long x, long ldx, int a, long y, long ldy, int b, long g);

    int blockSubMul(long n, long x, long ldx, int a, long g, long y, long ldy, int b);

    int blockMulSquare(long n, long x, long ldx, int c, long q);

    int blockResiduals(long n, long x, long ax, long ld, int k, DoublePointer theta, DoublePointer out);

    int blockChebyshevStep(long count, double f, double c, double g, long y0, long y1, long y2);

    int blockCopy(long n, long src, long lds, int s0, long dst, long ldd, int d0, int c);

    int kmeansAssign(long x, long n, int d, long centers, int k, long labels, long dist);
}
