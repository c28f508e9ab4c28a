package dev.cleave.nativ;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
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
    public int setSyncCheck(boolean on) {
        return CudaEmuKernels.cleave_cuda_emu_set_sync_check(on ? 1 : 0);
    }

    @Override
    public boolean syncCheck() {
        return CudaEmuKernels.cleave_cuda_emu_sync_check() != 0;
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

    @Override
    public int spectralOpCreate(long n, long half, DoublePointer scale, LongPointer out) {
        return CudaEmuKernels.cleave_cuda_emu_spectral_op_create(n, half, scale, out);
    }

    @Override
    public int spectralOpAddDense(long op, long dst, long rows, long src, long cols, FloatPointer a, int mirror) {
        return CudaEmuKernels.cleave_cuda_emu_spectral_op_add_dense(op, dst, rows, src, cols, a, mirror);
    }

    @Override
    public int spectralOpAddCsr(long op, long dst, long rows, long src, long cols, LongPointer offsets, IntPointer columns, FloatPointer weights) {
        return CudaEmuKernels.cleave_cuda_emu_spectral_op_add_csr(op, dst, rows, src, cols, offsets, columns, weights);
    }

    @Override
    public int spectralOpFree(long op) {
        return CudaEmuKernels.cleave_cuda_emu_spectral_op_free(op);
    }

    @Override
    public int spectralOpApply(long op, int which, long x, long y, int cols) {
        return CudaEmuKernels.cleave_cuda_emu_spectral_op_apply(op, which, x, y, cols);
    }

    @Override
    public int blockGram(long n, long x, long ldx, int a, long y, long ldy, int b, long g) {
        return CudaEmuKernels.cleave_cuda_emu_block_gram(n, x, ldx, a, y, ldy, b, g);
    }

    @Override
    public int blockSubMul(long n, long x, long ldx, int a, long g, long y, long ldy, int b) {
        return CudaEmuKernels.cleave_cuda_emu_block_sub_mul(n, x, ldx, a, g, y, ldy, b);
    }

    @Override
    public int blockMulSquare(long n, long x, long ldx, int c, long q) {
        return CudaEmuKernels.cleave_cuda_emu_block_mul_square(n, x, ldx, c, q);
    }

    @Override
    public int blockResiduals(long n, long x, long ax, long ld, int k, DoublePointer theta, DoublePointer out) {
        return CudaEmuKernels.cleave_cuda_emu_block_residuals(n, x, ax, ld, k, theta, out);
    }

    @Override
    public int blockChebyshevStep(long count, double f, double c, double g, long y0, long y1, long y2) {
        return CudaEmuKernels.cleave_cuda_emu_block_chebyshev_step(count, f, c, g, y0, y1, y2);
    }

    @Override
    public int blockCopy(long n, long src, long lds, int s0, long dst, long ldd, int d0, int c) {
        return CudaEmuKernels.cleave_cuda_emu_block_copy(n, src, lds, s0, dst, ldd, d0, c);
    }

    @Override
    public int kmeansAssign(long x, long n, int d, long centers, int k, long labels, long dist) {
        return CudaEmuKernels.cleave_cuda_emu_kmeans_assign(x, n, d, centers, k, labels, dist);
    }

    // ==== convolutional ops (issue 11) ====
    @Override
    public int conv2dForward(long x, long w, long b, long y, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int relu) {
        return CudaEmuKernels.cleave_cuda_emu_conv2d_forward(x, w, b, y, batch, inChannels, height, width, outChannels, kernel, stride, padding, relu);
    }

    @Override
    public int conv2dBackward(long x, long w, long y, long dy, long dx, long dw, long db, int batch, int inChannels, int height, int width, int outChannels, int kernel, int stride, int padding, int relu) {
        return CudaEmuKernels.cleave_cuda_emu_conv2d_backward(x, w, y, dy, dx, dw, db, batch, inChannels, height, width, outChannels, kernel, stride, padding, relu);
    }

    @Override
    public int maxpool2dForward(long x, long y, long argmax, int batch, int channels, int height, int width, int kernel, int stride) {
        return CudaEmuKernels.cleave_cuda_emu_maxpool2d_forward(x, y, argmax, batch, channels, height, width, kernel, stride);
    }

    @Override
    public int maxpool2dBackward(long dy, long argmax, long dx, int batch, int channels, int height, int width, int kernel, int stride) {
        return CudaEmuKernels.cleave_cuda_emu_maxpool2d_backward(dy, argmax, dx, batch, channels, height, width, kernel, stride);
    }

    @Override
    public int batchnorm2dForward(long x, long gamma, long beta, long runningMean, long runningVar, long y, long saveMean, long saveInvStd, int batch, int channels, int height, int width, int training, float momentum, float eps) {
        return CudaEmuKernels.cleave_cuda_emu_batchnorm2d_forward(x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, batch, channels, height, width, training, momentum, eps);
    }

    @Override
    public int batchnorm2dBackward(long x, long gamma, long saveMean, long saveInvStd, long dy, long dx, long dgamma, long dbeta, int batch, int channels, int height, int width, int training) {
        return CudaEmuKernels.cleave_cuda_emu_batchnorm2d_backward(x, gamma, saveMean, saveInvStd, dy, dx, dgamma, dbeta, batch, channels, height, width, training);
    }
    // ==== end of convolutional ops ====
}
