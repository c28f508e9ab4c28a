package dev.cleave.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Forward and backward passes of a {@link Network} on one backend, with every activation,
 * activation gradient, dropout mask, pooling argmax, batchnorm statistic and parameter gradient
 * allocated once (off-heap, or on the device) for batches of up to {@code maxBatch} images and
 * reused across steps. A relu right after a linear or conv layer is fused into that layer's
 * kernel; relu, dropout and flatten work in place on their input. Not thread-safe.
 */
public final class NetworkPass implements AutoCloseable {

    /** What one layer's forward and backward pass work on (row views for the current batch). */
    public static final class Step {
        final Backend backend;
        final Shape in;
        final Shape out;
        final Tensor[] params;
        final Tensor[] grads;
        final boolean relu; // a fused relu follows
        final IntTensor argmax;
        final Tensor saveMean;
        final Tensor saveInvStd;
        final Tensor maskFull;
        final Tensor xFull;
        final Tensor yFull;
        final Tensor dxFull;
        final Tensor dyFull;
        int batch;
        boolean training;
        long dropoutSeed;
        long stream;
        Tensor x;
        Tensor y;
        Tensor dx;
        Tensor dy;
        Tensor mask;

        Step(Backend backend, Shape in, Shape out, Tensor[] params, Tensor[] grads, boolean relu, IntTensor argmax,
                Tensor saveMean, Tensor saveInvStd, Tensor mask, Tensor x, Tensor y, Tensor dx, Tensor dy) {
            this.backend = backend;
            this.in = in;
            this.out = out;
            this.params = params;
            this.grads = grads;
            this.relu = relu;
            this.argmax = argmax;
            this.saveMean = saveMean;
            this.saveInvStd = saveInvStd;
            this.maskFull = mask;
            this.xFull = x;
            this.yFull = y;
            this.dxFull = dx;
            this.dyFull = dy;
        }

        Tensor param(int j) {
            return params[j];
        }

        Tensor grad(int j) {
            return grads[j];
        }

        void bind(int batch) {
            this.batch = batch;
            x = xFull.rows(batch);
            y = yFull.rows(batch);
            dx = dxFull == null ? null : dxFull.rows(batch);
            dy = dyFull == null ? null : dyFull.rows(batch);
            mask = maskFull == null ? null : maskFull.rows(batch);
        }
    }

    private final Backend backend;
    private final Network network;
    private final int maxBatch;
    private final List<Layer> layers;
    private final Step[] steps;          // null for a relu fused into the layer before it
    private final Tensor[] acts;         // acts[i] = input of layer i, acts[n] = logits (aliased where in place)
    private final Tensor[] actGrads;     // dL/d acts[i]; null where no layer needs it
    private final List<Tensor> gradients = new ArrayList<>(); // aligned with network.tensors(); null for running stats
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final IntTensor labels;
    private final float[] staging;

    public NetworkPass(Backend backend, Network network, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        if (network.onDevice() != (backend.deviceMemory() != null)) {
            throw new IllegalArgumentException("the network is in " + (network.onDevice() ? "device" : "host")
                    + " memory but the backend computes in the other: copy it with Network.copyTo(backend)");
        }
        this.backend = backend;
        this.network = network;
        this.maxBatch = maxBatch;
        Arch arch = network.arch();
        this.layers = arch.layers();
        int n = layers.size();
        boolean[] fused = fusedRelus(layers);
        acts = new Tensor[n + 1];
        actGrads = new Tensor[n + 1];
        acts[0] = own(backend.zeros(maxBatch, arch.input().size()));
        if (needsInputGradient(layers)) {
            actGrads[0] = own(backend.zeros(maxBatch, arch.input().size()));
        }
        for (int i = 0; i < n; i++) {
            if (layers.get(i).inPlace() || fused[i]) {
                acts[i + 1] = acts[i];
                actGrads[i + 1] = actGrads[i];
            } else {
                acts[i + 1] = own(backend.zeros(maxBatch, arch.shape(i + 1).size()));
                actGrads[i + 1] = own(backend.zeros(maxBatch, arch.shape(i + 1).size()));
            }
        }
        Map<Tensor, Tensor> gradOf = new IdentityHashMap<>();
        for (Network.Named t : network.tensors()) {
            Tensor g = t.spec().role().trainable() ? own(backend.zeros(t.tensor().rows(), t.tensor().cols())) : null;
            gradients.add(g);
            gradOf.put(t.tensor(), g);
        }
        steps = new Step[n];
        for (int i = 0; i < n; i++) {
            if (fused[i]) {
                continue;
            }
            Layer l = layers.get(i);
            Shape in = arch.shape(i), out = arch.shape(i + 1);
            Tensor[] ps = network.layerTensors(i);
            Tensor[] gs = new Tensor[ps.length];
            for (int j = 0; j < ps.length; j++) {
                gs[j] = gradOf.get(ps[j]);
            }
            IntTensor argmax = l instanceof Layer.MaxPool2d ? own(backend.ints(maxBatch * out.size())) : null;
            Tensor saveMean = l instanceof Layer.BatchNorm2d ? own(backend.zeros(1, in.channels())) : null;
            Tensor saveInvStd = l instanceof Layer.BatchNorm2d ? own(backend.zeros(1, in.channels())) : null;
            Tensor mask = l instanceof Layer.Dropout ? own(backend.zeros(maxBatch, in.size())) : null;
            steps[i] = new Step(backend, in, out, ps, gs, i + 1 < n && fused[i + 1], argmax, saveMean, saveInvStd, mask,
                    acts[i], acts[i + 1], actGrads[i], actGrads[i + 1]);
        }
        labels = own(backend.ints(maxBatch));
        staging = backend.deviceMemory() == null ? null : new float[maxBatch * arch.input().size()];
    }

    /** {@code fused[i]}: layer i is a relu fused into the linear or conv layer before it. */
    private static boolean[] fusedRelus(List<Layer> layers) {
        boolean[] fused = new boolean[layers.size()];
        for (int i = 0; i + 1 < layers.size(); i++) {
            Layer l = layers.get(i);
            fused[i + 1] = (l instanceof Layer.Linear || l instanceof Layer.Conv2d) && layers.get(i + 1) instanceof Layer.Relu;
        }
        return fused;
    }

    /** Whether the input's gradient is needed: only where a batchnorm (after in-place layers) must write dx. */
    private static boolean needsInputGradient(List<Layer> layers) {
        int first = 0;
        while (first < layers.size() && layers.get(first).inPlace()) {
            first++;
        }
        return first < layers.size() && layers.get(first) instanceof Layer.BatchNorm2d;
    }

    /**
     * The 4-byte values a pass of {@code arch} allocates per image of its batch: the input (and
     * its gradient where a batchnorm comes first), each layer's output and output gradient where
     * it is not in place or fused, dropout masks and pooling argmaxes.
     */
    public static long valuesPerImage(Arch arch) {
        List<Layer> layers = arch.layers();
        boolean[] fused = fusedRelus(layers);
        long values = (needsInputGradient(layers) ? 2L : 1L) * arch.input().size();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (!l.inPlace() && !fused[i]) {
                values += 2L * arch.shape(i + 1).size();
            }
            if (l instanceof Layer.MaxPool2d) {
                values += arch.shape(i + 1).size();
            } else if (l instanceof Layer.Dropout) {
                values += arch.shape(i).size();
            }
        }
        return values;
    }

    private <T extends AutoCloseable> T own(T t) {
        owned.add(t);
        return t;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public Network network() {
        return network;
    }

    /**
     * Loads images {@code order[first .. first+batch)} (or first .. first+batch when order is
     * null) of a row-major image array (each image C*H*W values, CHW) into the input rows, and
     * their labels.
     */
    public void loadBatch(float[] images, int[] imageLabels, int[] order, int first, int batch) {
        int features = acts[0].cols();
        int[] batchLabels = new int[batch];
        for (int r = 0; r < batch; r++) {
            int idx = order == null ? first + r : order[first + r];
            if (staging == null) {
                acts[0].buffer().put(r * features, images, idx * features, features);
            } else {
                System.arraycopy(images, idx * features, staging, r * features, features);
            }
            batchLabels[r] = imageLabels[idx];
        }
        if (staging != null) {
            acts[0].copyFrom(staging, 0, 0, batch * features);
        }
        labels.copyFrom(batchLabels, 0, batch);
    }

    /**
     * Forward pass on the first {@code batch} loaded images. In training, dropout layers draw
     * their masks from (dropoutSeed, stream = step * layers + i) and batchnorm uses (and updates
     * the running statistics with) the batch statistics; in eval, dropout passes values through
     * and batchnorm uses the running statistics. Returns the logits, a view into this pass's buffers.
     */
    public Tensor forward(int batch, boolean training, long dropoutSeed, long step) {
        checkBatch(batch);
        for (int i = 0; i < steps.length; i++) {
            Step s = steps[i];
            if (s == null) {
                continue;
            }
            s.bind(batch);
            s.training = training;
            s.dropoutSeed = dropoutSeed;
            s.stream = step * steps.length + i;
            layers.get(i).forward(s);
        }
        return acts[steps.length].rows(batch);
    }

    /**
     * Cross-entropy of the last (training) forward pass against the loaded labels (mean over the
     * batch), then the backward pass into {@link #gradients()}. Returns the summed loss and the
     * correct count.
     */
    public Backend.XentResult lossAndBackward(int batch) {
        checkBatch(batch);
        int n = steps.length;
        Backend.XentResult r = backend.softmaxXent(acts[n].rows(batch), labels, actGrads[n].rows(batch), 1.0f / batch);
        for (int i = n - 1; i >= 0; i--) {
            Step s = steps[i];
            if (s == null) {
                continue;
            }
            s.bind(batch);
            if (s.dy == null) {
                continue; // an in-place layer on the input: nothing before it needs a gradient
            }
            layers.get(i).backward(s);
        }
        return r;
    }

    /** Loss sum and correct count of the last forward pass, without gradients. */
    public Backend.XentResult loss(int batch) {
        return backend.softmaxXent(acts[steps.length].rows(batch), labels, null, 1.0f);
    }

    /** Gradients aligned with {@link Network#tensors()}: null for batchnorm's running statistics. */
    public List<Tensor> gradients() {
        return java.util.Collections.unmodifiableList(gradients);
    }

    private void checkBatch(int batch) {
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("batch must be in [1, " + maxBatch + "], got " + batch);
        }
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
