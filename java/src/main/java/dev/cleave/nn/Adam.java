package dev.cleave.nn;

import java.util.ArrayList;
import java.util.List;

/**
 * Adam's state for every parameter of an {@link Mlp} (first and second moments, in native
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
