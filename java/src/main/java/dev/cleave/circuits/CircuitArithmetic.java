package dev.cleave.circuits;

import dev.cleave.nativ.CircuitsKernels;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nn.Mlp;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A model packed for the native circuit kernels (native/include/cleave_circuits.h), with the
 * circuit arithmetic's scale: widths, every layer's weights back to back, biases likewise, in
 * native memory, read-only once built (several labels' searches share it).
 */
final class CircuitArithmetic implements AutoCloseable {
    /** Losses come back from native code in units of 2^-32. */
    static final double LOSS_UNIT = 0x1p-32;
    /** Most images one label's search may use (the int64 loss total cannot overflow). */
    static final int MAX_IMAGES = 16384;
    /** Finest grid used even for a model with tiny activations. */
    static final int MAX_SCALE_BITS = 40;
    /** Coarsest grid accepted: 2^-20 (about 1e-6) of a unit. */
    static final int MIN_SCALE_BITS = 20;

    final int[] widths;
    final long[] weightOffsets; // weightOffsets[l] = index of layer l's first weight
    final int scaleBits;
    final IntPointer widthsPointer;
    final FloatPointer weights;
    final FloatPointer biases;

    CircuitArithmetic(Mlp model) {
        this(model, null);
    }

    /** With |input j| at most {@code inputBound[j]} (null: every input in [0, 1]). */
    CircuitArithmetic(Mlp model, double[] inputBound) {
        widths = model.widths();
        List<FloatMatrix> ws = model.weightMatrices();
        List<float[]> bs = model.biasVectors();
        scaleBits = scaleBits(ws, bs, inputBound);
        weightOffsets = new long[ws.size() + 1];
        for (int l = 0; l < ws.size(); l++) {
            weightOffsets[l + 1] = weightOffsets[l] + ws.get(l).data().length;
        }
        long biasCount = 0;
        for (float[] b : bs) {
            biasCount += b.length;
        }
        widthsPointer = new IntPointer(widths);
        weights = new FloatPointer(weightOffsets[ws.size()]);
        biases = new FloatPointer(biasCount);
        long at = 0;
        for (int l = 0; l < ws.size(); l++) {
            putAt(weights, weightOffsets[l], ws.get(l).data());
            putAt(biases, at, bs.get(l));
            at += bs.get(l).length;
        }
    }

    private static void putAt(FloatPointer p, long offset, float[] values) {
        p.position(offset).put(values, 0, values.length);
        p.position(0);
    }

    int layers() {
        return widths.length - 1;
    }

    /**
     * The grid 2^-S of the circuit arithmetic: the largest S (at most {@value #MAX_SCALE_BITS})
     * such that every pre-activation of every pruning of the model, on any input in [0, 1], stays
     * below 2^50 grid units. The bound: inputs are at most 1, and unit i of layer l is at most
     * |b_i| + sum_j |w_ij| * (bound of input j), since pruning only zeroes weights and ReLU only
     * shrinks magnitudes.
     */
    static int scaleBits(List<FloatMatrix> weights, List<float[]> biases) {
        return scaleBits(weights, biases, null);
    }

    /** As {@link #scaleBits(List, List)} with |input j| at most {@code inputBound[j]} (null: 1). */
    static int scaleBits(List<FloatMatrix> weights, List<float[]> biases, double[] inputBound) {
        double[] bound = new double[weights.get(0).cols()];
        java.util.Arrays.fill(bound, 1.0);
        if (inputBound != null) {
            if (inputBound.length != bound.length) {
                throw new IllegalArgumentException("input bound has " + inputBound.length + " values, the model " + bound.length
                        + " inputs");
            }
            for (int j = 0; j < bound.length; j++) {
                bound[j] = Math.max(1.0, inputBound[j]);
            }
        }
        double inputMax = 1.0;
        for (double b : bound) {
            inputMax = Math.max(inputMax, b);
        }
        double max = inputMax;
        for (int l = 0; l < weights.size(); l++) {
            FloatMatrix w = weights.get(l);
            double[] next = new double[w.rows()];
            for (int i = 0; i < w.rows(); i++) {
                double s = Math.abs(biases.get(l)[i]);
                for (int j = 0; j < w.cols(); j++) {
                    s += Math.abs(w.get(i, j)) * bound[j];
                }
                next[i] = s;
                max = Math.max(max, s);
            }
            bound = next;
        }
        if (!Double.isFinite(max)) {
            throw new InvalidInputException("the model has non-finite weights or biases: it cannot be searched for circuits");
        }
        int bits = Math.min(MAX_SCALE_BITS, 49 - Math.getExponent(max));
        if (bits < MIN_SCALE_BITS) {
            throw new InvalidInputException("the model's activations could reach " + max + " (the sum of |weights| along its "
                    + "paths), too large for the exact circuit search's fixed-point grid (it needs at most 2^"
                    + (49 - MIN_SCALE_BITS) + ")");
        }
        return bits;
    }

    /** A copy of {@link #weights} in native memory (a search's working copy); close it. */
    FloatPointer copyOfWeights() {
        FloatPointer copy = new FloatPointer(weightOffsets[layers()]);
        Pointer.memcpy(copy, weights, weightOffsets[layers()] * Float.BYTES);
        return copy;
    }

    /** The label's loss total (units of 2^-32) of the model with weights {@code w} on {@code images}. */
    long lossTotal(FloatPointer w, FloatPointer images, int count, int label) {
        try (LongPointer losses = new LongPointer(count)) {
            CpuKernels.check(CircuitsKernels.cleave_circuit_loss(layers(), widthsPointer, w, biases, images, count,
                    label, scaleBits, losses));
            long total = 0;
            for (int n = 0; n < count; n++) {
                total += losses.get(n);
            }
            return total;
        }
    }

    /** A native search state for one label, starting from the model's weights; free it. */
    Pointer newState(FloatPointer images, int count, int label) {
        Pointer state = CircuitsKernels.cleave_circuit_new(layers(), widthsPointer, weights, biases, images, count, label,
                scaleBits);
        if (state == null || state.isNull()) {
            CpuKernels.check(1);
        }
        return state;
    }

    @Override
    public void close() {
        widthsPointer.close();
        weights.close();
        biases.close();
    }
}
