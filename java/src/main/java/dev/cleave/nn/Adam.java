package dev.cleave.nn;

import java.util.ArrayList;
import java.util.List;

/**
 * Adam's state for every parameter of an {@link Mlp} or a {@link Network} (first and second moments, in native
 * memory) and its step count; {@link #step} applies one fused update per tensor.
 */
public final class Adam implements AutoCloseable {
    public static final float BETA1 = 0.9f;
    public static final float BETA2 = 0.999f;
    public static final float EPS = 1e-8f;

    private final List<Tensor> m = new ArrayList<>();
    private final List<Tensor> v = new ArrayList<>();
    private final float lr;
    private long steps;

    /** Moments for the model's parameters in the order w0, b0, w1, b1, ... */
    public Adam(Backend backend, Mlp model, float lr) {
        this.lr = lr;
        for (int l = 0; l < model.layers(); l++) {
            for (Tensor p : List.of(model.weight(l), model.bias(l))) {
                m.add(backend.zeros(p.rows(), p.cols()));
                v.add(backend.zeros(p.rows(), p.cols()));
            }
        }
    }

    /** Moments for {@code params}, in that order (a {@link Network}'s trainable tensors). */
    public Adam(Backend backend, List<Tensor> params, float lr) {
        this.lr = lr;
        for (Tensor p : params) {
            m.add(backend.zeros(p.rows(), p.cols()));
            v.add(backend.zeros(p.rows(), p.cols()));
        }
    }

    /**
     * Updates {@code params[i]} with {@code grads[i]} (the order of the constructor); with
     * {@code masks} (null, or one 0/1 mask or null per parameter) masked weights stay zero.
     */
    public void step(Backend backend, List<Tensor> params, List<Tensor> grads, List<Tensor> masks) {
        if (params.size() != m.size() || grads.size() != m.size() || (masks != null && masks.size() != m.size())) {
            throw new IllegalArgumentException("adam: " + m.size() + " moments for " + params.size() + " parameters and "
                    + grads.size() + " gradients");
        }
        steps++;
        for (int i = 0; i < params.size(); i++) {
            backend.adamUpdate(params.get(i), grads.get(i), m.get(i), v.get(i), masks == null ? null : masks.get(i), lr, BETA1,
                    BETA2, EPS, steps);
        }
    }

    /**
     * Updates every parameter of {@code model} with the gradients held by {@code pass}. With
     * {@code weightMasks} (one 0/1 mask per layer's weight, or null) pruned weights stay zero.
     */
    public void step(Backend backend, Mlp model, MlpPass pass, List<Tensor> weightMasks) {
        steps++;
        for (int l = 0; l < model.layers(); l++) {
            Tensor mask = weightMasks == null ? null : weightMasks.get(l);
            backend.adamUpdate(model.weight(l), pass.weightGrad(l), m.get(2 * l), v.get(2 * l), mask, lr, BETA1, BETA2, EPS,
                    steps);
            backend.adamUpdate(model.bias(l), pass.biasGrad(l), m.get(2 * l + 1), v.get(2 * l + 1), null, lr, BETA1, BETA2,
                    EPS, steps);
        }
    }

    /** Starts afresh: zero moments, step 0 (F21's pruning phase uses a fresh Adam). */
    public void reset() {
        m.forEach(t -> t.fill(0f));
        v.forEach(t -> t.fill(0f));
        steps = 0;
    }

    public long steps() {
        return steps;
    }

    /** First and second moments, in parameter order (w0, b0, w1, b1, ...): for checkpoints. */
    public List<Tensor> firstMoments() {
        return m;
    }

    public List<Tensor> secondMoments() {
        return v;
    }

    /** Restores a checkpointed step count (moments are restored by copying into {@link #firstMoments()} etc.). */
    public void restoreSteps(long steps) {
        this.steps = steps;
    }

    @Override
    public void close() {
        m.forEach(Tensor::close);
        v.forEach(Tensor::close);
    }
}
