package dev.cleave.nn;

import dev.cleave.modular.Enmeshment;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.NativeLibraries;
import java.util.IdentityHashMap;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The {@code cuda} backend: the hand-written kernels of libcleave_cuda (cuda/src) on device
 * tensors. Built on {@link CudaApi}, so the same code runs on a GPU ({@link CudaApi#device()})
 * and on the CPU emulation of the same kernel sources ({@link CudaApi#emulator()}, device kind
 * {@code cuda-emu}), which is how it is tested on machines without a GPU.
 *
 * <p>{@code prune_mask} selects the pruned weights on the host (an exact selection with
 * the cpu kernel, every few steps) and uploads mask and weights; every other op runs on the
 * device. Not thread-safe.
 */
public final class CudaBackend extends Backend {
    private final Device device;
    private final CudaApi api;
    private final DeviceMemory memory;
    private final DoublePointer scalar = new DoublePointer(1);
    private final IntPointer count = new IntPointer(1);
    private final Map<Enmeshment, IntTensor[]> labels = new IdentityHashMap<>();

    /** The CUDA ops of {@code device} (a cuda or cuda-emu device; its GPU is made current here). */
    public CudaBackend(Device device) {
        if (!device.isCuda()) {
            throw new IllegalArgumentException("CudaBackend runs on a cuda or cuda-emu device, not " + device);
        }
        this.device = device;
        CudaApi api = device.cuda();
        this.api = api;
        this.memory = new DeviceMemory() {
            @Override
            public long allocate(long bytes) {
                long p = api.mallocOrThrow(bytes);
                api.check(api.memset(p, 0, bytes));
                return p;
            }

            @Override
            public void free(long address) {
                api.check(api.free(address));
            }

            @Override
            public void upload(long dst, Pointer src, long bytes) {
                api.check(api.memcpyHtoD(dst, src, bytes));
            }

            @Override
            public void download(Pointer dst, long src, long bytes) {
                api.check(api.memcpyDtoH(dst, src, bytes));
            }

            @Override
            public void copy(long dst, long src, long bytes) {
                api.check(api.memcpyDtoD(dst, src, bytes));
            }

            @Override
            public void zero(long address, long bytes) {
                api.check(api.memset(address, 0, bytes));
            }
        };
    }

    @Override
    public DeviceMemory deviceMemory() {
        return memory;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public String describe() {
        return api.buildKind() == 2 ? "CUDA kernels emulated on the CPU (cuda/emu; for testing, slow)"
                : "CUDA kernels (libcleave_cuda) on GPU " + device.gpu();
    }

    private static long a(Tensor t) {
        return t == null ? 0 : t.pointer().address();
    }

    @Override
    protected void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        api.check(api.linearForward(a(x), a(w), a(b), a(y), x.rows(), x.cols(), w.rows(), relu ? 1 : 0));
    }

    @Override
    protected void doLinearBackward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean relu) {
        api.check(api.linearBackward(a(x), a(w), a(y), a(dy), a(dx), a(dw), a(db), x.rows(), x.cols(), w.rows(),
                relu ? 1 : 0));
    }

    @Override
    protected XentResult doSoftmaxXent(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale) {
        api.check(api.softmaxXent(a(logits), labels.pointer().address(), a(dlogits), logits.rows(), logits.cols(),
                gradScale, scalar, count));
        return new XentResult(scalar.get(), count.get());
    }

    @Override
    protected void doDropoutForward(Tensor x, Tensor mask, float p, long seed, long stream) {
        api.check(api.dropoutForward(a(x), a(mask), x.size(), p, seed, stream));
    }

    @Override
    protected void doDropoutBackward(Tensor dy, Tensor mask) {
        api.check(api.dropoutBackward(a(dy), a(mask), dy.size()));
    }

    @Override
    protected double doWeightPenalty(Tensor w, Tensor g, float l1, float l2) {
        api.check(api.weightPenalty(a(w), a(g), w.size(), l1, l2, scalar));
        return scalar.get();
    }

    @Override
    protected void doAdamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask, float lr, float beta1, float beta2,
            float eps, long step) {
        api.check(api.adamUpdate(a(w), a(g), a(m), a(v), a(mask), w.size(), lr, beta1, beta2, eps, step));
    }

    @Override
    protected void doPruneMask(Tensor w, Tensor mask, float sparsity) {
        NativeLibraries.loadCpu();
        float[] hostW = w.toArray();
        try (FloatPointer pw = new FloatPointer(hostW); FloatPointer pm = new FloatPointer(hostW.length)) {
            CpuKernels.check(CpuKernels.cleave_prune_mask(pw, pm, hostW.length, sparsity));
            float[] out = new float[hostW.length];
            pw.get(out);
            w.copyFrom(out);
            pm.get(out);
            mask.copyFrom(out);
        }
    }

    @Override
    protected double doEnmeshment(Tensor w, Enmeshment op, float scale, Tensor grad) {
        IntTensor[] l = labels.computeIfAbsent(op, o -> {
            IntTensor rows = ints(o.rows()), cols = ints(o.cols());
            rows.copyFrom(o.rowLabels(), 0, o.rows());
            cols.copyFrom(o.colLabels(), 0, o.cols());
            return new IntTensor[] {rows, cols};
        });
        api.check(api.enmeshment(a(w), l[0].pointer().address(), l[1].pointer().address(), w.rows(), w.cols(), op.k(),
                scale, a(grad), scalar));
        return scalar.get();
    }

    // ==== convolutional ops (issue 11): cuda/src/conv2d.cu, pool.cu, batchnorm.cu ====
    @Override
    protected void doConv2dForward(Conv2dShape s, Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        api.check(api.conv2dForward(a(x), a(w), a(b), a(y), s.batch(), s.inChannels(), s.height(), s.width(),
                s.outChannels(), s.kernel(), s.stride(), s.padding(), relu ? 1 : 0));
    }

    @Override
    protected void doConv2dBackward(Conv2dShape s, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw,
            Tensor db, boolean relu) {
        api.check(api.conv2dBackward(a(x), a(w), a(y), a(dy), a(dx), a(dw), a(db), s.batch(), s.inChannels(), s.height(),
                s.width(), s.outChannels(), s.kernel(), s.stride(), s.padding(), relu ? 1 : 0));
    }

    @Override
    protected void doMaxpool2dForward(Pool2dShape s, Tensor x, Tensor y, IntTensor argmax) {
        api.check(api.maxpool2dForward(a(x), a(y), argmax.pointer().address(), s.batch(), s.channels(), s.height(),
                s.width(), s.kernel(), s.stride()));
    }

    @Override
    protected void doMaxpool2dBackward(Pool2dShape s, Tensor dy, IntTensor argmax, Tensor dx) {
        api.check(api.maxpool2dBackward(a(dy), argmax.pointer().address(), a(dx), s.batch(), s.channels(), s.height(),
                s.width(), s.kernel(), s.stride()));
    }

    @Override
    protected void doBatchnorm2dForward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveInvStd, boolean training, float momentum, float eps) {
        api.check(api.batchnorm2dForward(a(x), a(gamma), a(beta), a(runningMean), a(runningVar), a(y), a(saveMean),
                a(saveInvStd), s.batch(), s.channels(), s.height(), s.width(), training ? 1 : 0, momentum, eps));
    }

    @Override
    protected void doBatchnorm2dBackward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
            Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean training) {
        api.check(api.batchnorm2dBackward(a(x), a(gamma), a(saveMean), a(saveInvStd), a(dy), a(dx), a(dgamma), a(dbeta),
                s.batch(), s.channels(), s.height(), s.width(), training ? 1 : 0));
    }
    // ==== end of convolutional ops ====

    @Override
    public void close() {
        for (IntTensor[] l : labels.values()) {
            l[0].close();
            l[1].close();
        }
        labels.clear();
        scalar.close();
        count.close();
    }
}
