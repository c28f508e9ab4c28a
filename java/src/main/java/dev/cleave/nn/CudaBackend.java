package dev.cleave.nn;

import dev.cleave.modular.Enmeshment;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.NativeLibraries;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
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
    // load_batch's two pinned staging buffers, used in turn, each with the event recorded after
    // the copies that read it and the download count at that moment (a later download means the
    // copies have run: no need to wait for the event).
    private final long[] staging = new long[2];
    private final long[] stagingEvent = new long[2];
    private final long[] stagedAtDownload = {-1, -1};
    private long stagingBytes;
    private int nextStaging;
    private long downloads;

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
                downloads++; // the host waited for all work queued so far, the batch uploads included
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

    // ==== the fused training step: cuda/src/linear.cu, softmax_xent.cu, elementwise.cu ====
    @Override
    protected void doLinearDropoutForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu, Tensor mask, float p,
            long seed, long stream) {
        api.check(api.linearDropoutForward(a(x), a(w), a(b), a(y), a(mask), x.rows(), x.cols(), w.rows(), relu ? 1 : 0, p,
                seed, stream));
    }

    @Override
    protected void doLinearDropoutBackward(Tensor x, Tensor w, Tensor xMask, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean reluX) {
        api.check(api.linearDropoutBackward(a(x), a(w), a(xMask), a(dy), a(dx), a(dw), a(db), x.rows(), x.cols(), w.rows(),
                reluX ? 1 : 0));
    }

    @Override
    protected void doSoftmaxXentRecord(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale, XentLog log,
            int slot) {
        api.check(api.softmaxXentRecord(a(logits), labels.pointer().address(), a(dlogits), logits.rows(), logits.cols(),
                gradScale, log.deviceAddress(slot)));
    }

    @Override
    protected void doAdamUpdateMulti(List<Tensor> w, List<Tensor> g, List<Tensor> m, List<Tensor> v, List<Tensor> mask,
            float[] l1, float[] l2, float lr, float beta1, float beta2, float eps, long step) {
        try (TensorTable t = new TensorTable(w, g, m, v, mask); FloatPointer pl1 = new FloatPointer(l1);
                FloatPointer pl2 = new FloatPointer(l2)) {
            api.check(api.adamUpdateMulti(w.size(), t.w, t.g, t.m, t.v, t.mask, t.n, pl1, pl2, lr, beta1, beta2, eps, step));
        }
    }

    /**
     * Gathers the batch into one of two pinned host buffers (the other may still be read by the
     * previous batch's copy) and queues its copies to x and y: the host waits only for the copies
     * of the batch before the last one, and not at all when a download has happened since.
     */
    @Override
    protected void doLoadBatch(float[] images, int[] labels, int[] order, int first, int batch, Tensor x, IntTensor y) {
        int features = x.cols();
        long imageBytes = 4L * batch * features, bytes = imageBytes + 4L * batch;
        int k = nextStaging;
        nextStaging ^= 1;
        waitForStaging(k);
        if (bytes > stagingBytes) {
            for (int i = 0; i < 2; i++) {
                waitForStaging(i);
                api.check(api.hostFree(staging[i]));
                staging[i] = 0;
            }
            try (LongPointer p = new LongPointer(1)) {
                for (int i = 0; i < 2; i++) {
                    api.check(api.hostAlloc(p, bytes));
                    staging[i] = p.get();
                    if (stagingEvent[i] == 0) {
                        api.check(api.eventCreate(p));
                        stagingEvent[i] = p.get();
                    }
                }
            }
            stagingBytes = bytes;
        }
        FloatPointer rows = DeviceMemory.floats(staging[k], (long) batch * features); // pinned host memory
        IntPointer rowLabels = DeviceMemory.ints(staging[k] + imageBytes, batch);
        for (int r = 0; r < batch; r++) {
            int idx = order == null ? first + r : order[first + r];
            rows.position((long) r * features).put(images, idx * features, features);
            rowLabels.put(r, labels[idx]);
        }
        api.check(api.memcpyHtoDAsync(a(x), staging[k], imageBytes));
        api.check(api.memcpyHtoDAsync(y.pointer().address(), staging[k] + imageBytes, 4L * batch));
        api.check(api.eventRecord(stagingEvent[k]));
        stagedAtDownload[k] = downloads;
    }

    /** Waits until the copies that last read staging buffer k have run, unless a download since has shown that. */
    private void waitForStaging(int k) {
        if (stagedAtDownload[k] >= 0 && stagedAtDownload[k] == downloads) {
            api.check(api.eventSynchronize(stagingEvent[k]));
        }
        stagedAtDownload[k] = -1;
    }

    @Override
    protected double doEnmeshment(Tensor w, Enmeshment op, float scale, Tensor grad) {
        IntTensor[] l = labels.computeIfAbsent(op, o -> {
            IntTensor rows = ints(o.rows()), cols = ints(o.cols());
            rows.copyFrom(o.rowLabels(), 0, o.rows());
            cols.copyFrom(o.colLabels(), 0, o.cols());
            return new IntTensor[] {rows, cols};
        });
        api.check(api.enmeshment(a(w), l[0].pointer().address(), l[1].pointer().address(), op.rows(), op.cols(), op.slice(), op.k(),
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
        for (int k = 0; k < 2; k++) {
            waitForStaging(k);
            api.check(api.hostFree(staging[k]));
            api.check(api.eventDestroy(stagingEvent[k]));
            staging[k] = 0;
            stagingEvent[k] = 0;
        }
        scalar.close();
        count.close();
    }
}
