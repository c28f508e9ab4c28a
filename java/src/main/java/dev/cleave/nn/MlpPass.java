package dev.cleave.nn;

import java.util.ArrayList;
import java.util.List;

/**
 * Forward and backward passes of an {@link Mlp} on one backend, with every activation,
 * activation gradient, dropout mask and parameter gradient allocated once for batches of up to
 * {@code maxBatch} rows and reused. Not thread-safe.
 */
public final class MlpPass implements AutoCloseable {
    private final Backend backend;
    private final Mlp model;
    private final int maxBatch;
    private final List<Tensor> acts = new ArrayList<>();     // acts[0] = input, acts[l+1] = output of layer l
    private final List<Tensor> actGrads = new ArrayList<>(); // actGrads[l] = dL/d acts[l] (index 0 unused)
    private final List<Tensor> masks = new ArrayList<>();    // dropout masks of hidden layers
    private final List<Tensor> weightGrads = new ArrayList<>();
    private final List<Tensor> biasGrads = new ArrayList<>();
    private final IntTensor labels;

    public MlpPass(Backend backend, Mlp model, int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be >= 1, got " + maxBatch);
        }
        this.backend = backend;
        this.model = model;
        this.maxBatch = maxBatch;
        int[] widths = model.widths();
        for (int l = 0; l < widths.length; l++) {
            acts.add(backend.zeros(maxBatch, widths[l]));
            actGrads.add(l == 0 ? null : backend.zeros(maxBatch, widths[l]));
        }
        for (int l = 0; l < model.layers(); l++) {
            masks.add(l + 1 < model.layers() ? backend.zeros(maxBatch, widths[l + 1]) : null);
            weightGrads.add(backend.zeros(widths[l + 1], widths[l]));
            biasGrads.add(backend.zeros(1, widths[l + 1]));
        }
        labels = backend.ints(maxBatch);
    }

    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Loads images {@code order[first .. first+batch)} (or first .. first+batch when order is
     * null) of a row-major image array into the input rows, and their labels.
     */
    public void loadBatch(float[] images, int[] imageLabels, int[] order, int first, int batch) {
        backend.loadBatch(images, imageLabels, order, first, batch, acts.get(0), labels);
    }

    /** The input buffer (maxBatch x inputs): fill its first rows before {@link #forward}. */
    public Tensor input() {
        return acts.get(0);
    }

    /** The label buffer: fill its first entries before {@link #lossAndBackward}. */
    public IntTensor labels() {
        return labels;
    }

    /**
     * Forward pass on the first {@code batch} rows of {@link #input()}. With {@code dropout} > 0
     * each hidden layer's output is multiplied by a mask drawn from (dropoutSeed, stream = step *
     * layers + l). Returns the logits (batch x outputs), a view into this pass's buffers.
     */
    public Tensor forward(int batch, float dropout, long dropoutSeed, long step) {
        int layers = model.layers();
        for (int l = 0; l < layers; l++) {
            boolean hidden = l + 1 < layers;
            Tensor mask = hidden && dropout > 0f ? masks.get(l).rows(batch) : null;
            backend.linearDropoutForward(acts.get(l).rows(batch), model.weight(l), model.bias(l), acts.get(l + 1).rows(batch),
                    hidden, mask, dropout, dropoutSeed, step * layers + l);
        }
        return acts.get(layers).rows(batch);
    }

    /**
     * Cross-entropy of the last forward pass against {@link #labels()} (mean over the batch), then
     * the backward pass into {@link #weightGrad}/{@link #biasGrad}. Returns the summed loss and
     * correct count of the batch.
     */
    public Backend.XentResult lossAndBackward(int batch, float dropout) {
        int layers = model.layers();
        Backend.XentResult r = backend.softmaxXent(acts.get(layers).rows(batch), labels, actGrads.get(layers).rows(batch),
                1.0f / batch);
        backward(batch, dropout);
        return r;
    }

    /**
     * {@link #lossAndBackward(int, float)} with the loss left in record {@code slot} of {@code log}
     * (read it later: no host round trip per step).
     */
    public void lossAndBackward(int batch, float dropout, XentLog log, int slot) {
        int layers = model.layers();
        backend.softmaxXentRecord(acts.get(layers).rows(batch), labels, actGrads.get(layers).rows(batch), 1.0f / batch, log,
                slot);
        backward(batch, dropout);
    }

    /** The backward pass from dL/d(logits) in actGrads[layers]: each layer's dx leaves masked for the layer below. */
    private void backward(int batch, float dropout) {
        for (int l = model.layers() - 1; l >= 0; l--) {
            boolean below = l > 0; // x is the output of hidden layer l - 1, after its ReLU and dropout
            backend.linearDropoutBackward(acts.get(l).rows(batch), model.weight(l),
                    below && dropout > 0f ? masks.get(l - 1).rows(batch) : null, actGrads.get(l + 1).rows(batch),
                    below ? actGrads.get(l).rows(batch) : null, weightGrads.get(l), biasGrads.get(l), below);
        }
    }

    /** Loss sum and correct count of the last forward pass, without gradients. */
    public Backend.XentResult loss(int batch) {
        return backend.softmaxXent(acts.get(model.layers()).rows(batch), labels, null, 1.0f);
    }

    public Tensor weightGrad(int l) {
        return weightGrads.get(l);
    }

    public Tensor biasGrad(int l) {
        return biasGrads.get(l);
    }

    @Override
    public void close() {
        for (Tensor t : acts) {
            t.close();
        }
        for (List<Tensor> list : List.of(actGrads, masks, weightGrads, biasGrads)) {
            for (Tensor t : list) {
                if (t != null) {
                    t.close();
                }
            }
        }
        labels.close();
    }
}
