package dev.cleave.nn;

import static dev.cleave.nativ.CpuKernels.check;

import dev.cleave.modular.Enmeshment;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.NativeLibraries;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import java.util.List;

/**
 * The {@code cpu} backend: hand-written C++ kernels in libcleave_cpu (native/src), OpenMP
 * and OpenBLAS sgemm, called on off-heap tensors with no copies. Not thread-safe: one
 * backend per training loop (the small result buffers are reused).
 */
public final class CpuBackend extends Backend {
    private final Device device;
    private final DoublePointer scalar = new DoublePointer(1);
    private final IntPointer count = new IntPointer(1);
    // adam_update_multi's arguments, kept from step to step (no native allocation per step)
    private TensorTable adamTable;
    private FloatPointer adamL1, adamL2;

    /** Loads the native library and sets the kernels' and OpenBLAS's thread count. */
    public CpuBackend(int threads) {
        this(Device.cpu(threads));
    }

    /** The cpu ops of {@code device} (its kind must be cpu). */
    CpuBackend(Device device) {
        if (device.kind() != Device.Kind.CPU) {
            throw new IllegalArgumentException("CpuBackend runs on a cpu device, not " + device);
        }
        NativeLibraries.loadCpu();
        check(device.loadAdaptive() ? CpuKernels.cleave_set_threads_adaptive(device.threads())
                : CpuKernels.cleave_set_threads(device.threads()));
        this.device = device;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public String describe() {
        return "native C++ kernels: " + CpuKernels.cleave_build_info().getString();
    }

    /** The rows straight from the Java arrays (a critical region: no copy of them), gathered natively with prefetching. */
    @Override
    protected void doLoadBatch(float[] images, int[] labels, int[] order, int first, int batch, Tensor x, IntTensor y) {
        check(CpuKernels.cleave_load_batch(images, labels, labels.length, order, first, batch, x.cols(), x.pointer(),
                y.pointer()));
    }

    @Override
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        check(CpuKernels.cleave_linear_forward(x.pointer(), w.pointer(), b == null ? null : b.pointer(), y.pointer(),
                x.rows(), x.cols(), w.rows(), relu ? 1 : 0));
    }

    @Override
    protected void doLinearBackward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean relu) {
        check(CpuKernels.cleave_linear_backward(x.pointer(), w.pointer(), y == null ? null : y.pointer(), dy.pointer(),
                dx == null ? null : dx.pointer(), dw.pointer(), db == null ? null : db.pointer(), x.rows(), x.cols(),
                w.rows(), relu ? 1 : 0));
    }

    @Override
    protected XentResult doSoftmaxXent(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale) {
        check(CpuKernels.cleave_softmax_xent(logits.pointer(), labels.pointer(),
                dlogits == null ? null : dlogits.pointer(), logits.rows(), logits.cols(), gradScale, scalar, count));
        return new XentResult(scalar.get(), count.get());
    }

    @Override
    protected void doDropoutForward(Tensor x, Tensor mask, float p, long seed, long stream) {
        check(CpuKernels.cleave_dropout_forward(x.pointer(), mask.pointer(), x.size(), p, seed, stream));
    }

    @Override
    protected void doDropoutBackward(Tensor dy, Tensor mask) {
        check(CpuKernels.cleave_dropout_backward(dy.pointer(), mask.pointer(), dy.size()));
    }

    @Override
    protected double doWeightPenalty(Tensor w, Tensor g, float l1, float l2) {
        check(CpuKernels.cleave_weight_penalty(w.pointer(), g.pointer(), w.size(), l1, l2, scalar));
        return scalar.get();
    }

    @Override
    protected void doAdamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask, float lr, float beta1,
            float beta2, float eps, long step) {
        check(CpuKernels.cleave_adam_update(w.pointer(), g.pointer(), m.pointer(), v.pointer(),
                mask == null ? null : mask.pointer(), w.size(), lr, beta1, beta2, eps, step));
    }

    // ==== the fused training step: native/src/linear.cpp, softmax_xent.cpp, elementwise.cpp ====
    @Override
    protected void doLinearDropoutForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu, Tensor mask, float p,
            long seed, long stream) {
        check(CpuKernels.cleave_linear_dropout_forward(p(x), p(w), p(b), p(y), p(mask), x.rows(), x.cols(), w.rows(),
                relu ? 1 : 0, p, seed, stream));
    }

    @Override
    protected void doLinearDropoutBackward(Tensor x, Tensor w, Tensor xMask, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean reluX) {
        check(CpuKernels.cleave_linear_dropout_backward(p(x), p(w), p(xMask), p(dy), p(dx), p(dw), p(db), x.rows(),
                x.cols(), w.rows(), reluX ? 1 : 0));
    }

    @Override
    protected void doSoftmaxXentRecord(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale, XentLog log,
            int slot) {
        check(CpuKernels.cleave_softmax_xent_record(logits.pointer(), labels.pointer(), p(dlogits), logits.rows(),
                logits.cols(), gradScale, log.hostRecord(slot))); // a view of the log's memory: not closed
    }

    @Override
    protected void doAdamUpdateMulti(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, List<Tensor> mask,
            float[] l1, float[] l2, float lr, float beta1, float beta2, float eps, long step) {
        int n = w.size();
        if (adamTable == null || adamTable.capacity() < n) {
            closeAdamTable();
            adamTable = new TensorTable(n);
            adamL1 = new FloatPointer(adamTable.capacity());
            adamL2 = new FloatPointer(adamTable.capacity());
        }
        adamTable.set(w, g, m, v, mask);
        adamL1.put(l1, 0, n);
        adamL2.put(l2, 0, n);
        TensorTable t = adamTable;
        check(CpuKernels.cleave_adam_update_multi(n, t.w, t.g, t.m, t.v, t.mask, t.n, adamL1, adamL2, lr, beta1, beta2,
                eps, step));
    }

    private void closeAdamTable() {
        if (adamTable != null) {
            adamTable.close();
            adamL1.close();
            adamL2.close();
            adamTable = null;
        }
    }

    @Override
    protected double doEnmeshment(Tensor w, Enmeshment op, float scale, Tensor grad) {
        return grad == null ? op.forward(w.pointer()) : op.forwardBackward(w.pointer(), scale, grad.pointer());
    }

    @Override
    protected void doPruneMask(Tensor w, Tensor mask, float sparsity) {
        check(CpuKernels.cleave_prune_mask(w.pointer(), mask.pointer(), w.size(), sparsity));
    }

    // ==== convolutional ops (issue 11): native/src/conv2d.cpp, pool.cpp, batchnorm.cpp ====
    private static FloatPointer p(Tensor t) {
        return t == null ? null : t.pointer();
    }

    @Override
    protected void doConv2dForward(Conv2dShape s, Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        check(CpuKernels.cleave_conv2d_forward(p(x), p(w), p(b), p(y), s.batch(), s.inChannels(), s.height(), s.width(),
                s.outChannels(), s.kernel(), s.stride(), s.padding(), relu ? 1 : 0));
    }

    @Override
    protected void doConv2dBackward(Conv2dShape s, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw,
            Tensor db, boolean relu) {
        check(CpuKernels.cleave_conv2d_backward(p(x), p(w), p(y), p(dy), p(dx), p(dw), p(db), s.batch(), s.inChannels(),
                s.height(), s.width(), s.outChannels(), s.kernel(), s.stride(), s.padding(), relu ? 1 : 0));
    }

    @Override
    protected void doMaxpool2dForward(Pool2dShape s, Tensor x, Tensor y, IntTensor argmax) {
        check(CpuKernels.cleave_maxpool2d_forward(p(x), p(y), argmax.pointer(), s.batch(), s.channels(), s.height(),
                s.width(), s.kernel(), s.stride()));
    }

    @Override
    protected void doMaxpool2dBackward(Pool2dShape s, Tensor dy, IntTensor argmax, Tensor dx) {
        check(CpuKernels.cleave_maxpool2d_backward(p(dy), argmax.pointer(), p(dx), s.batch(), s.channels(), s.height(),
                s.width(), s.kernel(), s.stride()));
    }

    @Override
    protected void doBatchnorm2dForward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveInvStd, boolean training, float momentum, float eps) {
        check(CpuKernels.cleave_batchnorm2d_forward(p(x), p(gamma), p(beta), p(runningMean), p(runningVar), p(y),
                p(saveMean), p(saveInvStd), s.batch(), s.channels(), s.height(), s.width(), training ? 1 : 0, momentum, eps));
    }

    @Override
    protected void doBatchnorm2dBackward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
            Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean training) {
        check(CpuKernels.cleave_batchnorm2d_backward(p(x), p(gamma), p(saveMean), p(saveInvStd), p(dy), p(dx), p(dgamma),
                p(dbeta), s.batch(), s.channels(), s.height(), s.width(), training ? 1 : 0));
    }
    // ==== end of convolutional ops ====

    @Override
    public void close() {
        scalar.close();
        count.close();
        closeAdamTable();
    }
}
