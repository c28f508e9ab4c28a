package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/** {@link CudaApi} on libcleave_cuda_emu ({@link CudaEmuKernels}): the kernels run on the CPU by the emulator. */
final class CudaEmuApi implements CudaApi {
    static final CudaEmuApi INSTANCE = new CudaEmuApi();

    private CudaEmuApi() {}

    @Override
    public String name() {
        return "cuda-emu";
    }

    @Override
    public int buildKind() {
        return CudaEmuKernels.cleave_cuda_emu_is_real();
    }

    @Override
    public String lastError() {
        return CudaEmuKernels.cleave_cuda_emu_last_error().getString();
    }

    @Override
    public int setDevice(int index) {
        return CudaEmuKernels.cleave_cuda_emu_set_device(index);
    }

    @Override
    public int memInfo(LongPointer freeBytes, LongPointer totalBytes) {
        return CudaEmuKernels.cleave_cuda_emu_mem_info(freeBytes, totalBytes);
    }

    @Override
    public int malloc(LongPointer ptr, long bytes) {
        return CudaEmuKernels.cleave_cuda_emu_malloc(ptr, bytes);
    }

    @Override
    public int free(long ptr) {
        return CudaEmuKernels.cleave_cuda_emu_free(ptr);
    }

    @Override
    public int memcpyHtoD(long dst, Pointer src, long bytes) {
        return CudaEmuKernels.cleave_cuda_emu_memcpy_htod(dst, src, bytes);
    }

    @Override
    public int memcpyDtoH(Pointer dst, long src, long bytes) {
        return CudaEmuKernels.cleave_cuda_emu_memcpy_dtoh(dst, src, bytes);
    }

    @Override
    public int memcpyDtoD(long dst, long src, long bytes) {
        return CudaEmuKernels.cleave_cuda_emu_memcpy_dtod(dst, src, bytes);
    }

    @Override
    public int memset(long ptr, int value, long bytes) {
        return CudaEmuKernels.cleave_cuda_emu_memset(ptr, value, bytes);
    }

    @Override
    public int synchronize() {
        return CudaEmuKernels.cleave_cuda_emu_synchronize();
    }

    @Override
    public int linearForward(long x, long w, long b, long y, int batch, int in, int out, int relu) {
        return CudaEmuKernels.cleave_cuda_emu_linear_forward(x, w, b, y, batch, in, out, relu);
    }

    @Override
    public int linearBackward(long x, long w, long y, long dy, long dx, long dw, long db, int batch, int in, int out,
            int relu) {
        return CudaEmuKernels.cleave_cuda_emu_linear_backward(x, w, y, dy, dx, dw, db, batch, in, out, relu);
    }

    @Override
    public int softmaxXent(long logits, long labels, long dlogits, int batch, int classes, float gradScale,
            DoublePointer lossSum, IntPointer correct) {
        return CudaEmuKernels.cleave_cuda_emu_softmax_xent(logits, labels, dlogits, batch, classes, gradScale, lossSum, correct);
    }

    @Override
    public int dropoutForward(long x, long mask, long n, float p, long seed, long stream) {
        return CudaEmuKernels.cleave_cuda_emu_dropout_forward(x, mask, n, p, seed, stream);
    }

    @Override
    public int dropoutBackward(long dy, long mask, long n) {
        return CudaEmuKernels.cleave_cuda_emu_dropout_backward(dy, mask, n);
    }

    @Override
    public int weightPenalty(long w, long g, long n, float l1, float l2, DoublePointer value) {
        return CudaEmuKernels.cleave_cuda_emu_weight_penalty(w, g, n, l1, l2, value);
    }

    @Override
    public int adamUpdate(long w, long g, long m, long v, long mask, long n, float lr, float beta1, float beta2,
            float eps, long step) {
        return CudaEmuKernels.cleave_cuda_emu_adam_update(w, g, m, v, mask, n, lr, beta1, beta2, eps, step);
    }

    @Override
    public int enmeshment(long w, long rowLabels, long colLabels, int rows, int cols, int k, float scale, long grad,
            DoublePointer cOut) {
        return CudaEmuKernels.cleave_cuda_emu_enmeshment(w, rowLabels, colLabels, rows, cols, k, scale, grad, cOut);
    }
}
