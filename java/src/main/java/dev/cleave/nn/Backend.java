package dev.cleave.nn;

import dev.cleave.modular.Enmeshment;
import dev.cleave.util.InvalidInputException;

/**
 * The ops a network needs, behind one interface; {@code java} (the plain reference),
 * {@code cpu} (hand-written C++ kernels) and {@code cuda} (the CUDA kernels, on a GPU or the
 * emulator) implement them. Where they run is their {@link Device}: get the ops from
 * {@link Device#open()}. Each op has
 * the same name everywhere: the C++ function {@code cleave_<op>}, the method here, the tests
 * and the benchmarks.
 *
 * <p>Shapes are validated here, once, before any implementation runs, so a wrong shape is an
 * {@link IllegalArgumentException} naming the op and both shapes, never a native crash.
 * Tensors are row-major; a weight is (out x in); a bias is (1 x out).
 */
public abstract class Backend implements AutoCloseable {

    /** Loss sum over a batch and the number of correct argmax predictions. */
    public record XentResult(double lossSum, int correct) {}

    /** Where this backend's tensors live: null for host memory, else the device's memory. */
    public DeviceMemory deviceMemory() {
        return null;
    }

    /** A zero-filled tensor in this backend's memory. */
    public final Tensor zeros(int rows, int cols) {
        DeviceMemory d = deviceMemory();
        return d == null ? Tensor.zeros(rows, cols) : Tensor.zeros(rows, cols, d);
    }

    /** A zero-filled int32 vector in this backend's memory. */
    public final IntTensor ints(int size) {
        return new IntTensor(size, deviceMemory());
    }

    /** The device these ops run on (kind, threads, the CUDA library). */
    public abstract Device device();

    /** One line saying what this backend runs on (library, SIMD, BLAS), for logs and doctor. */
    public abstract String describe();

    /**
     * linear_forward: y = x w^T + b, then ReLU if {@code relu}. x (batch x in), w (out x in),
     * b (1 x out) or null, y (batch x out).
     */
    public final void linearForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        int batch = x.rows(), in = x.cols(), out = w.rows();
        if (!(w.cols() == in)) {
            throw invalid("linear_forward", "w is " + shape(w) + " but x is " + shape(x) + ": w must be out x " + in);
        }
        if (!(b == null || (b.rows() == 1 && b.cols() == out))) {
            throw invalid("linear_forward", "b is " + shape(b) + ", expected 1 x " + out);
        }
        if (!(y.rows() == batch && y.cols() == out)) {
            throw invalid("linear_forward", "y is " + shape(y) + ", expected " + batch + " x " + out);
        }
        doLinearForward(x, w, b, y, relu);
    }

    /**
     * linear_backward. On entry dy holds dL/dy; with {@code relu} it is masked in place by
     * (y > 0), so on return it holds dL/d(pre-activation). Writes dw = dy^T x, db = column
     * sums of dy (db may be null) and dx = dy w (dx may be null: the first layer needs none).
     */
    public final void linearBackward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean relu) {
        int batch = x.rows(), in = x.cols(), out = w.rows();
        if (!(w.cols() == in)) {
            throw invalid("linear_backward", "w is " + shape(w) + " but x is " + shape(x));
        }
        if (!(dy.rows() == batch && dy.cols() == out)) {
            throw invalid("linear_backward", "dy is " + shape(dy) + ", expected " + batch + " x " + out);
        }
        if (!(!relu || (y != null && y.rows() == batch && y.cols() == out))) {
            throw invalid("linear_backward", "y is " + shape(y) + ", expected " + batch + " x " + out);
        }
        if (!(dx == null || (dx.rows() == batch && dx.cols() == in))) {
            throw invalid("linear_backward", "dx is " + shape(dx) + ", expected " + batch + " x " + in);
        }
        if (!(dw.rows() == out && dw.cols() == in)) {
            throw invalid("linear_backward", "dw is " + shape(dw) + ", expected " + out + " x " + in);
        }
        if (!(db == null || (db.rows() == 1 && db.cols() == out))) {
            throw invalid("linear_backward", "db is " + shape(db) + ", expected 1 x " + out);
        }
        doLinearBackward(x, w, y, dy, dx, dw, db, relu);
    }

    /**
     * softmax_xent: softmax cross-entropy over each row of logits (batch x classes) with
     * labels[0..batch). Writes dlogits = (softmax - onehot) * gradScale unless dlogits is null.
     * A label outside [0, classes) is a {@link dev.cleave.nativ.NativeArgumentException} (bad input),
     * a non-finite logit an {@link ArithmeticException} (the network diverged).
     */
    public final XentResult softmaxXent(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale) {
        if (!(labels.size() >= logits.rows())) {
            throw invalid("softmax_xent", labels.size() + " labels for " + logits.rows() + " rows");
        }
        if (!(dlogits == null || (dlogits.rows() == logits.rows() && dlogits.cols() == logits.cols()))) {
            throw invalid("softmax_xent", "dlogits is " + shape(dlogits) + ", expected " + shape(logits));
        }
        return doSoftmaxXent(logits, labels, dlogits, gradScale);
    }

    /** dropout_forward: x *= mask with mask[i] = 1/(1-p) or 0 drawn from (seed, stream, i). */
    public final void dropoutForward(Tensor x, Tensor mask, float p, long seed, long stream) {
        if (!(mask.size() == x.size())) {
            throw invalid("dropout_forward", "mask is " + shape(mask) + ", x is " + shape(x));
        }
        if (!(p >= 0f && p < 1f)) {
            throw invalid("dropout_forward", "p must be in [0, 1), got " + p);
        }
        doDropoutForward(x, mask, p, seed, stream);
    }

    /** dropout_backward: dy *= mask. */
    public final void dropoutBackward(Tensor dy, Tensor mask) {
        if (!(mask.size() == dy.size())) {
            throw invalid("dropout_backward", "mask is " + shape(mask) + ", dy is " + shape(dy));
        }
        doDropoutBackward(dy, mask);
    }

    /** weight_penalty: returns l1 sum|w| + l2 sum w^2 and adds its gradient to g. */
    public final double weightPenalty(Tensor w, Tensor g, float l1, float l2) {
        if (!(g.size() == w.size())) {
            throw invalid("weight_penalty", "g is " + shape(g) + ", w is " + shape(w));
        }
        if (!(l1 >= 0 && l2 >= 0)) {
            throw invalid("weight_penalty", "l1 and l2 must be >= 0, got " + l1 + ", " + l2);
        }
        return doWeightPenalty(w, g, l1, l2);
    }

    /**
     * adam_update: one fused Adam step on w with gradient g and moments m, v (PyTorch's
     * formulas). With a {@code mask} (0/1, may be null) w is set to +0 wherever the mask is 0,
     * so pruned weights stay zero.
     */
    public final void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask, float lr, float beta1,
            float beta2, float eps, long step) {
        if (!(g.size() == w.size() && m.size() == w.size() && v.size() == w.size())) {
            throw invalid("adam_update", "w, g, m, v sizes differ: " + w.size() + ", " + g.size() + ", " + m.size() + ", " + v.size());
        }
        if (!(mask == null || mask.size() == w.size())) {
            throw invalid("adam_update", "mask has " + (mask == null ? 0 : mask.size()) + " entries, w has " + w.size());
        }
        if (!(step >= 1)) {
            throw invalid("adam_update", "step must be >= 1, got " + step);
        }
        doAdamUpdate(w, g, m, v, mask, lr, beta1, beta2, eps, step);
    }

    /**
     * prune_mask: sets mask to 0 for the round(sparsity * n) entries of w with the smallest |w|
     * (ties by lower index) and 1 elsewhere, and zeroes w where the mask is 0.
     */
    public final void pruneMask(Tensor w, Tensor mask, float sparsity) {
        if (!(mask.size() == w.size())) {
            throw invalid("prune_mask", "mask is " + shape(mask) + ", w is " + shape(w));
        }
        if (!(sparsity >= 0f && sparsity <= 1f)) {
            throw invalid("prune_mask", "sparsity must be in [0, 1], got " + sparsity);
        }
        doPruneMask(w, mask, sparsity);
    }

    /**
     * enmeshment: the clusterability C of weight w under {@code op}'s row and column clusters
     * (the in-block share of sum w^2, see {@link Enmeshment}; a conv kernel is the out x
     * in*kh*kw tensor with the op's slice kh * kw); unless grad is null, adds
     * {@code scale * dC/dw} into grad.
     */
    public final double enmeshment(Tensor w, Enmeshment op, float scale, Tensor grad) {
        if (!(w.rows() == op.rows() && w.cols() == op.width())) {
            throw invalid("enmeshment", "w is " + shape(w) + " but the clusters are for " + op.rows() + " x " + op.cols() + (op.slice() > 1 ? " channels with slices of " + op.slice() + " (" + op.rows() + " x " + op.width() + ")" : ""));
        }
        if (!(grad == null || (grad.rows() == w.rows() && grad.cols() == w.cols()))) {
            throw invalid("enmeshment", "grad is " + shape(grad) + ", w is " + shape(w));
        }
        if (!(Float.isFinite(scale))) {
            throw invalid("enmeshment", "scale must be finite, got " + scale);
        }
        return doEnmeshment(w, op, scale, grad);
    }

    protected abstract double doEnmeshment(Tensor w, Enmeshment op, float scale, Tensor grad);

    // ==== the fused training step (issue 17) ====
    // The ops above fused so that a step on cuda is one launch per layer forward and backward, one
    // softmax_xent_record and one adam_update_multi, with no host synchronisation but the batch
    // upload's. Each computes bit for bit what the unfused ops compute (cpu and java run them in
    // sequence); cuda/include/cleave_cuda_ops.h and native/include/cleave_cpu.h say the same.

    /** A log of {@code capacity} softmax_xent records in this backend's memory, for {@link #softmaxXentRecord}. */
    public final XentLog xentLog(int capacity) {
        return new XentLog(capacity, deviceMemory());
    }

    /**
     * load_batch: rows {@code order[first .. first+batch)} (first .. first+batch when order is
     * null) of a row-major image array, {@code x.cols()} values each, into the first rows of x,
     * and their labels into y. On cuda the rows are gathered into pinned host memory (two buffers,
     * used in turn) and copied asynchronously; the images and labels arrays may change once it
     * returns.
     */
    public final void loadBatch(float[] images, int[] labels, int[] order, int first, int batch, Tensor x, IntTensor y) {
        int features = x.cols();
        if (!(batch >= 1 && batch <= x.rows() && batch <= y.size())) {
            throw invalid("load_batch", batch + " rows for x " + shape(x) + " and " + y.size() + " labels");
        }
        if (!(first >= 0 && first + batch <= (order == null ? labels.length : order.length))) {
            throw invalid("load_batch", "rows " + first + " .. " + (first + batch) + " of " + (order == null ? labels.length : order.length));
        }
        if (!((long) labels.length * features == images.length)) {
            throw invalid("load_batch", images.length + " image values for " + labels.length + " labels of " + features + " features");
        }
        doLoadBatch(images, labels, order, first, batch, x, y);
    }

    /** The host implementation (x and y in host memory); device backends override it. */
    protected void doLoadBatch(float[] images, int[] labels, int[] order, int first, int batch, Tensor x, IntTensor y) {
        if (x.onDevice()) {
            throw new IllegalStateException(device() + " keeps tensors in device memory but does not implement load_batch");
        }
        int features = x.cols();
        int[] batchLabels = new int[batch];
        for (int r = 0; r < batch; r++) {
            int idx = order == null ? first + r : order[first + r];
            x.buffer().put(r * features, images, idx * features, features);
            batchLabels[r] = labels[idx];
        }
        y.copyFrom(batchLabels, 0, batch);
    }

    /**
     * linear_dropout_forward: {@link #linearForward}, then, when mask is not null,
     * {@link #dropoutForward}(y, mask, p, seed, stream), in one op (on cuda, in the GEMM's epilogue).
     */
    public final void linearDropoutForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu, Tensor mask, float p,
            long seed, long stream) {
        int batch = x.rows(), in = x.cols(), out = w.rows();
        if (!(w.cols() == in)) {
            throw invalid("linear_dropout_forward", "w is " + shape(w) + " but x is " + shape(x) + ": w must be out x " + in);
        }
        if (!(b == null || (b.rows() == 1 && b.cols() == out))) {
            throw invalid("linear_dropout_forward", "b is " + shape(b) + ", expected 1 x " + out);
        }
        if (!(y.rows() == batch && y.cols() == out)) {
            throw invalid("linear_dropout_forward", "y is " + shape(y) + ", expected " + batch + " x " + out);
        }
        if (!(mask == null || mask.size() == y.size())) {
            throw invalid("linear_dropout_forward", "mask is " + shape(mask) + ", y is " + shape(y));
        }
        if (!(mask == null || (p >= 0f && p < 1f))) {
            throw invalid("linear_dropout_forward", "p must be in [0, 1), got " + p);
        }
        doLinearDropoutForward(x, w, b, y, relu, mask, p, seed, stream);
    }

    /**
     * linear_dropout_backward: the backward pass of a layer whose input x is the output of the
     * layer below after its ReLU ({@code reluX}) and dropout ({@code xMask}, or null). dy holds
     * dL/d(pre-activation) of this layer and is not changed. Writes dw = dy^T x, db = column sums
     * of dy (db may be null) and, unless dx is null, dx = dL/d(pre-activation) of the layer below:
     * (dy w) * xMask, then 0 where x <= 0 when reluX. What {@link #linearBackward} (relu false),
     * {@link #dropoutBackward}(dx, xMask) and the layer below's ReLU mask compute, in one op.
     */
    public final void linearDropoutBackward(Tensor x, Tensor w, Tensor xMask, Tensor dy, Tensor dx, Tensor dw, Tensor db,
            boolean reluX) {
        int batch = x.rows(), in = x.cols(), out = w.rows();
        String op = "linear_dropout_backward";
        if (!(w.cols() == in)) {
            throw invalid(op, "w is " + shape(w) + " but x is " + shape(x));
        }
        if (!(dy.rows() == batch && dy.cols() == out)) {
            throw invalid(op, "dy is " + shape(dy) + ", expected " + batch + " x " + out);
        }
        if (!(xMask == null || xMask.size() == x.size())) {
            throw invalid(op, "xMask is " + shape(xMask) + ", x is " + shape(x));
        }
        if (!(dx == null || (dx.rows() == batch && dx.cols() == in))) {
            throw invalid(op, "dx is " + shape(dx) + ", expected " + batch + " x " + in);
        }
        if (!(dw.rows() == out && dw.cols() == in)) {
            throw invalid(op, "dw is " + shape(dw) + ", expected " + out + " x " + in);
        }
        if (!(db == null || (db.rows() == 1 && db.cols() == out))) {
            throw invalid(op, "db is " + shape(db) + ", expected 1 x " + out);
        }
        doLinearDropoutBackward(x, w, xMask, dy, dx, dw, db, reluX);
    }

    /**
     * softmax_xent_record: {@link #softmaxXent} with its results left in record {@code slot} of
     * {@code log} (in this backend's memory) rather than returned: the loss sum and correct count
     * of the good rows (softmax_xent's values, bit for bit, when every row is good) and the first
     * bad rows, which {@link XentLog.Record#check} reports once read. A bad row gets dlogits 0.
     */
    public final void softmaxXentRecord(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale, XentLog log,
            int slot) {
        if (!(labels.size() >= logits.rows())) {
            throw invalid("softmax_xent_record", labels.size() + " labels for " + logits.rows() + " rows");
        }
        if (!(dlogits == null || (dlogits.rows() == logits.rows() && dlogits.cols() == logits.cols()))) {
            throw invalid("softmax_xent_record", "dlogits is " + shape(dlogits) + ", expected " + shape(logits));
        }
        if (!(log.onDevice() == (deviceMemory() != null))) {
            throw invalid("softmax_xent_record", "the log is not in this backend's memory");
        }
        if (!(slot >= 0 && slot < log.capacity())) {
            throw invalid("softmax_xent_record", "slot " + slot + " of " + log.capacity());
        }
        doSoftmaxXentRecord(logits, labels, dlogits, gradScale, log, slot);
    }

    /**
     * adam_update_multi: {@link #adamUpdate} of every tensor w[t] (moments m[t], v[t], mask[t] or
     * null) in one op, with gradient g[t] + the gradient of {@link #weightPenalty}(w[t], l1[t],
     * l2[t]) when l1[t] or l2[t] is not 0, computed as weight_penalty computes it (g[t] itself is
     * not changed; the penalty's value is not computed).
     */
    public final void adamUpdateMulti(java.util.List<Tensor> w, java.util.List<Tensor> g, java.util.List<Tensor> m,
            java.util.List<Tensor> v, java.util.List<Tensor> mask, float[] l1, float[] l2, float lr, float beta1,
            float beta2, float eps, long step) {
        int n = w.size();
        if (!(g.size() == n && m.size() == n && v.size() == n && mask.size() == n && l1.length == n && l2.length == n)) {
            throw invalid("adam_update_multi", "the lists have different lengths");
        }
        for (int t = 0; t < n; t++) {
            Tensor wt = w.get(t);
            if (!(g.get(t).size() == wt.size() && m.get(t).size() == wt.size() && v.get(t).size() == wt.size())) {
                throw invalid("adam_update_multi", "tensor " + t + ": w, g, m, v sizes differ");
            }
            Tensor mt = mask.get(t);
            if (!(mt == null || mt.size() == wt.size())) {
                throw invalid("adam_update_multi", "tensor " + t + ": the mask has " + (mt == null ? 0 : mt.size()) + " entries, w has " + wt.size());
            }
            if (!(l1[t] >= 0 && l2[t] >= 0)) {
                throw invalid("adam_update_multi", "l1 and l2 must be >= 0, got " + l1[t] + ", " + l2[t]);
            }
        }
        if (!(step >= 1)) {
            throw invalid("adam_update_multi", "step must be >= 1, got " + step);
        }
        doAdamUpdateMulti(w, g, m, v, mask, l1, l2, lr, beta1, beta2, eps, step);
    }

    protected abstract void doLinearDropoutForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu, Tensor mask,
            float p, long seed, long stream);

    protected abstract void doLinearDropoutBackward(Tensor x, Tensor w, Tensor xMask, Tensor dy, Tensor dx, Tensor dw,
            Tensor db, boolean reluX);

    protected abstract void doSoftmaxXentRecord(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale,
            XentLog log, int slot);

    protected abstract void doAdamUpdateMulti(java.util.List<Tensor> w, java.util.List<Tensor> g,
            java.util.List<Tensor> m, java.util.List<Tensor> v, java.util.List<Tensor> mask, float[] l1, float[] l2,
            float lr, float beta1, float beta2, float eps, long step);
    // ==== end of the fused training step ====

    protected abstract void doLinearForward(Tensor x, Tensor w, Tensor b, Tensor y, boolean relu);

    protected abstract void doLinearBackward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw,
            Tensor db, boolean relu);

    protected abstract XentResult doSoftmaxXent(Tensor logits, IntTensor labels, Tensor dlogits, float gradScale);

    protected abstract void doDropoutForward(Tensor x, Tensor mask, float p, long seed, long stream);

    protected abstract void doDropoutBackward(Tensor dy, Tensor mask);

    protected abstract double doWeightPenalty(Tensor w, Tensor g, float l1, float l2);

    protected abstract void doAdamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor mask, float lr, float beta1,
            float beta2, float eps, long step);

    protected abstract void doPruneMask(Tensor w, Tensor mask, float sparsity);

    // ==== convolutional ops (issue 11: conv2d, maxpool2d, batchnorm2d) ====
    // Images are NCHW, held as (batch x C*H*W) tensors; the shape records say how to read them.
    // Shapes are checked here (InvalidInputException naming the op and the shapes) before any
    // implementation runs. The implementations are the do-methods at the end of this block.

    /**
     * conv2d_forward: y = conv(x, w) + b, then ReLU if {@code relu} (bias and ReLU fused into the
     * kernels' epilogue). x (batch x inSize), w (outChannels x patchSize), b (1 x outChannels) or
     * null, y (batch x outSize); see {@link Conv2dShape}.
     */
    public final void conv2dForward(Conv2dShape s, Tensor x, Tensor w, Tensor b, Tensor y, boolean relu) {
        String op = "conv2d_forward";
        expect(op, "x", x, s.batch(), s.inSize(), s);
        expect(op, "w", w, s.outChannels(), s.patchSize(), s);
        expectOptional(op, "b", b, 1, s.outChannels(), s);
        expect(op, "y", y, s.batch(), s.outSize(), s);
        doConv2dForward(s, x, w, b, y, relu);
    }

    /**
     * conv2d_backward. On entry dy holds dL/dy; with {@code relu} it is masked in place by (y > 0),
     * so on return it holds dL/d(pre-activation). Writes (overwrites) dw, db (may be null) and dx
     * (may be null: the first layer needs none). Shapes as {@link #conv2dForward}.
     */
    public final void conv2dBackward(Conv2dShape s, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx, Tensor dw,
            Tensor db, boolean relu) {
        String op = "conv2d_backward";
        expect(op, "x", x, s.batch(), s.inSize(), s);
        expect(op, "w", w, s.outChannels(), s.patchSize(), s);
        if (relu) {
            expect(op, "y (needed for the ReLU mask)", y, s.batch(), s.outSize(), s);
        }
        expect(op, "dy", dy, s.batch(), s.outSize(), s);
        expectOptional(op, "dx", dx, s.batch(), s.inSize(), s);
        expect(op, "dw", dw, s.outChannels(), s.patchSize(), s);
        expectOptional(op, "db", db, 1, s.outChannels(), s);
        doConv2dBackward(s, x, w, y, dy, dx, dw, db, relu);
    }

    /**
     * maxpool2d_forward: y = the maximum of each window (first maximum wins ties; NaN wins over
     * numbers); argmax (at least batch * outSize int32) = its index ih * width + iw within its
     * (n, c) plane, for the backward pass. x (batch x inSize), y (batch x outSize).
     */
    public final void maxpool2dForward(Pool2dShape s, Tensor x, Tensor y, IntTensor argmax) {
        String op = "maxpool2d_forward";
        expect(op, "x", x, s.batch(), s.inSize(), s);
        expect(op, "y", y, s.batch(), s.outSize(), s);
        expectInts(op, argmax, (long) s.batch() * s.outSize(), s);
        doMaxpool2dForward(s, x, y, argmax);
    }

    /** maxpool2d_backward: dx (overwritten) = 0 except at each window's argmax, where it gets that window's dy (summed where windows overlap). */
    public final void maxpool2dBackward(Pool2dShape s, Tensor dy, IntTensor argmax, Tensor dx) {
        String op = "maxpool2d_backward";
        expect(op, "dy", dy, s.batch(), s.outSize(), s);
        expectInts(op, argmax, (long) s.batch() * s.outSize(), s);
        expect(op, "dx", dx, s.batch(), s.inSize(), s);
        doMaxpool2dBackward(s, dy, argmax, dx);
    }

    /**
     * batchnorm2d_forward as {@code torch.nn.BatchNorm2d} (see {@link ConvReference#batchnorm2dForward}):
     * in training, normalises with the batch's per-channel mean and biased variance and updates
     * runningMean and runningVar in place with {@code momentum} (the variance unbiased); in eval,
     * normalises with the running statistics. Writes y and, unless null, the statistics used
     * (saveMean, saveInvStd = 1/sqrt(var + eps)) that batchnorm2d_backward needs. x and y (batch x
     * size), every per-channel tensor (1 x channels).
     */
    public final void batchnorm2dForward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
            Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveInvStd, boolean training, float momentum, float eps) {
        String op = "batchnorm2d_forward";
        expect(op, "x", x, s.batch(), s.size(), s);
        for (Tensor t : new Tensor[] {gamma, beta, runningMean, runningVar}) {
            expect(op, "gamma, beta, running mean and running var", t, 1, s.channels(), s);
        }
        expect(op, "y", y, s.batch(), s.size(), s);
        expectOptional(op, "saveMean", saveMean, 1, s.channels(), s);
        expectOptional(op, "saveInvStd", saveInvStd, 1, s.channels(), s);
        if (training && s.perChannel() < 2) {
            throw new InvalidInputException(op + ": training needs more than one value per channel, got " + s
                    + " (as in PyTorch): use a larger batch");
        }
        if (!(momentum >= 0f && momentum <= 1f) || !(eps > 0f) || !Float.isFinite(eps)) {
            throw new InvalidInputException(op + ": momentum must be in [0, 1] and eps > 0, got " + momentum + ", " + eps);
        }
        doBatchnorm2dForward(s, x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd, training, momentum, eps);
    }

    /**
     * batchnorm2d_backward, with saveMean and saveInvStd from the forward pass and the same
     * {@code training}: writes (overwrites) dx, dgamma and dbeta (see
     * {@link ConvReference#batchnorm2dBackward}).
     */
    public final void batchnorm2dBackward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
            Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean training) {
        String op = "batchnorm2d_backward";
        expect(op, "x", x, s.batch(), s.size(), s);
        for (Tensor t : new Tensor[] {gamma, saveMean, saveInvStd, dgamma, dbeta}) {
            expect(op, "gamma, saveMean, saveInvStd, dgamma and dbeta", t, 1, s.channels(), s);
        }
        expect(op, "dy", dy, s.batch(), s.size(), s);
        expect(op, "dx", dx, s.batch(), s.size(), s);
        doBatchnorm2dBackward(s, x, gamma, saveMean, saveInvStd, dy, dx, dgamma, dbeta, training);
    }

    protected abstract void doConv2dForward(Conv2dShape s, Tensor x, Tensor w, Tensor b, Tensor y, boolean relu);

    protected abstract void doConv2dBackward(Conv2dShape s, Tensor x, Tensor w, Tensor y, Tensor dy, Tensor dx,
            Tensor dw, Tensor db, boolean relu);

    protected abstract void doMaxpool2dForward(Pool2dShape s, Tensor x, Tensor y, IntTensor argmax);

    protected abstract void doMaxpool2dBackward(Pool2dShape s, Tensor dy, IntTensor argmax, Tensor dx);

    protected abstract void doBatchnorm2dForward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor beta,
            Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveInvStd, boolean training,
            float momentum, float eps);

    protected abstract void doBatchnorm2dBackward(BatchNorm2dShape s, Tensor x, Tensor gamma, Tensor saveMean,
            Tensor saveInvStd, Tensor dy, Tensor dx, Tensor dgamma, Tensor dbeta, boolean training);

    private void expect(String op, String name, Tensor t, int rows, int cols, Object shape) {
        if (t == null || t.rows() != rows || t.cols() != cols) {
            throw new InvalidInputException(op + ": " + name + " is " + shape(t) + ", expected " + rows + " x " + cols
                    + " for " + shape);
        }
        if (onDevice() != t.onDevice()) {
            throw new InvalidInputException(op + ": " + name + " is in " + (t.onDevice() ? "device" : "host")
                    + " memory but the " + device() + " backend computes in " + (onDevice() ? "device" : "host") + " memory");
        }
    }

    private void expectOptional(String op, String name, Tensor t, int rows, int cols, Object shape) {
        if (t != null) {
            expect(op, name, t, rows, cols, shape);
        }
    }

    private static void expectInts(String op, IntTensor t, long size, Object shape) {
        if (t == null || t.size() < size) {
            throw new InvalidInputException(op + ": argmax has " + (t == null ? "no" : t.size()) + " entries, expected at least "
                    + size + " for " + shape);
        }
    }

    private boolean onDevice() {
        return deviceMemory() != null;
    }
    /**
     * relu_forward: x = max(x, 0) in place (NaN stays NaN), for a relu that no linear or conv
     * kernel fuses (after a batchnorm). {@link #doReluForward} computes it on the host; on a
     * device backend that means one download and one upload until a backend overrides it.
     */
    public final void reluForward(Tensor x) {
        expect("relu_forward", "x", x, x.rows(), x.cols(), x.rows() + " x " + x.cols());
        doReluForward(x);
    }

    /** relu_backward: dy *= (y > 0) in place, y the output of {@link #reluForward}. */
    public final void reluBackward(Tensor y, Tensor dy) {
        expect("relu_backward", "dy", dy, y.rows(), y.cols(), "y " + y.rows() + " x " + y.cols());
        doReluBackward(y, dy);
    }

    protected void doReluForward(Tensor x) {
        if (x.onDevice()) {
            float[] v = x.toArray();
            for (int i = 0; i < v.length; i++) {
                if (v[i] < 0f) {
                    v[i] = 0f;
                }
            }
            x.copyFrom(v);
            return;
        }
        java.nio.FloatBuffer b = x.buffer();
        for (int i = 0, n = x.size(); i < n; i++) {
            if (b.get(i) < 0f) {
                b.put(i, 0f);
            }
        }
    }

    protected void doReluBackward(Tensor y, Tensor dy) {
        if (dy.onDevice()) {
            float[] yv = y.toArray();
            float[] g = dy.toArray();
            for (int i = 0; i < g.length; i++) {
                if (!(yv[i] > 0f)) {
                    g[i] = 0f;
                }
            }
            dy.copyFrom(g);
            return;
        }
        java.nio.FloatBuffer yb = y.buffer(), gb = dy.buffer();
        for (int i = 0, n = dy.size(); i < n; i++) {
            if (!(yb.get(i) > 0f)) {
                gb.put(i, 0f);
            }
        }
    }
    // ==== end of convolutional ops ====

    @Override
    public void close() {}

    /** The error of a failed argument check (each check builds its message only when it fails). */
    private static IllegalArgumentException invalid(String op, String message) {
        return new IllegalArgumentException(op + ": " + message);
    }

    private static String shape(Tensor t) {
        return t == null ? "null" : t.rows() + " x " + t.cols();
    }
}
