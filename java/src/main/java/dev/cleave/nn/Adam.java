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
        step(backend, model, pass, weightMasks, 0f, 0f);
    }

    /**
     * {@link #step(Backend, Mlp, MlpPass, List)} with the gradient of the L1/L2 weight penalty
     * ({@link Backend#weightPenalty}, on the weights, not the biases) folded in: every tensor in one
     * {@link Backend#adamUpdateMulti}, the same bits as weightPenalty then per-tensor updates.
     */
    public void step(Backend backend, Mlp model, MlpPass pass, List<Tensor> weightMasks, float l1, float l2) {
        steps++;
        int n = 2 * model.layers();
        List<Tensor> params = new ArrayList<>(n), grads = new ArrayList<>(n), masks = new ArrayList<>(n);
        float[] l1s = new float[n], l2s = new float[n];
        for (int l = 0; l < model.layers(); l++) {
            params.add(model.weight(l));
            grads.add(pass.weightGrad(l));
            masks.add(weightMasks == null ? null : weightMasks.get(l));
            l1s[2 * l] = l1;
            l2s[2 * l] = l2;
            params.add(model.bias(l));
            grads.add(pass.biasGrad(l));
            masks.add(null);
        }
        backend.adamUpdateMulti(params, grads, m, v, masks, l1s, l2s, lr, BETA1, BETA2, EPS, steps);
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
