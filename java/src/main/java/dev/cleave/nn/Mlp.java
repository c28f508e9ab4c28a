package dev.cleave.nn;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A multi-layer perceptron's parameters: layer l maps widths[l] to widths[l+1] with weight
 * (widths[l+1] x widths[l]) and bias (1 x widths[l+1]); ReLU after every layer but the last
 * (whose outputs are the logits). Parameters live in native memory; close the model to free it.
 */
public final class Mlp implements AutoCloseable {
    /** F21's network: 784-256-256-256-256-10. */
    public static final int[] F21_WIDTHS = {784, 256, 256, 256, 256, 10};

    private final int[] widths;
    private final List<Tensor> weights;
    private final List<Tensor> biases;

    private Mlp(int[] widths, List<Tensor> weights, List<Tensor> biases) {
        this.widths = widths.clone();
        this.weights = List.copyOf(weights);
        this.biases = List.copyOf(biases);
    }

    /** Checks a width list: at least an input and an output, every width positive. */
    public static void validateWidths(int[] widths) {
        if (widths == null || widths.length < 2) {
            throw new InvalidInputException("--layers needs at least two widths (input and output), got "
                    + Arrays.toString(widths));
        }
        for (int w : widths) {
            if (w <= 0 || w > 1 << 20) {
                throw new InvalidInputException("--layers widths must be in [1, 1048576], got " + Arrays.toString(widths));
            }
        }
    }

    /**
     * Glorot-uniform initialisation (the F21 default): W ~ U(-a, a), a = sqrt(6 / (in + out)),
     * biases zero; drawn from the seed's "init" stream.
     */
    public static Mlp glorotUniform(int[] widths, long seed) {
        validateWidths(widths);
        SplittableRandom rng = Rng.stream(seed, "init");
        List<Tensor> ws = new ArrayList<>();
        List<Tensor> bs = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            int in = widths[l], out = widths[l + 1];
            double a = Math.sqrt(6.0 / (in + out));
            float[] w = new float[out * in];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) ((rng.nextDouble() * 2 - 1) * a);
            }
            ws.add(Tensor.of(new FloatMatrix(out, in, w)));
            bs.add(Tensor.zeros(1, out));
        }
        return new Mlp(widths, ws, bs);
    }

    /** A model from weight matrices (each out x in, consecutive shapes must chain) and biases. */
    public static Mlp fromMatrices(List<FloatMatrix> weights, List<float[]> biases) {
        if (weights.isEmpty() || weights.size() != biases.size()) {
            throw new InvalidInputException("a model needs one bias per weight matrix and at least one layer, got "
                    + weights.size() + " weights and " + biases.size() + " biases");
        }
        int[] widths = new int[weights.size() + 1];
        widths[0] = weights.get(0).cols();
        for (int l = 0; l < weights.size(); l++) {
            FloatMatrix w = weights.get(l);
            if (w.cols() != widths[l]) {
                throw new InvalidInputException("layer " + l + " weight is " + w.rows() + " x " + w.cols()
                        + " but the previous layer has " + widths[l] + " outputs");
            }
            if (biases.get(l).length != w.rows()) {
                throw new InvalidInputException("layer " + l + " bias has " + biases.get(l).length + " values, expected " + w.rows());
            }
            widths[l + 1] = w.rows();
        }
        validateWidths(widths);
        List<Tensor> ws = new ArrayList<>();
        List<Tensor> bs = new ArrayList<>();
        for (int l = 0; l < weights.size(); l++) {
            ws.add(Tensor.of(weights.get(l)));
            bs.add(Tensor.row(biases.get(l)));
        }
        return new Mlp(widths, ws, bs);
    }

    public int[] widths() {
        return widths.clone();
    }

    public int layers() {
        return weights.size();
    }

    public int inputs() {
        return widths[0];
    }

    public int outputs() {
        return widths[widths.length - 1];
    }

    /** Layer l's weight (out x in), in native memory; training updates it in place. */
    public Tensor weight(int l) {
        return weights.get(l);
    }

    /** Layer l's bias (1 x out). */
    public Tensor bias(int l) {
        return biases.get(l);
    }

    /** Copies of the weight matrices, first layer first. */
    public List<FloatMatrix> weightMatrices() {
        List<FloatMatrix> out = new ArrayList<>();
        for (Tensor w : weights) {
            out.add(w.toMatrix());
        }
        return out;
    }

    /** Copies of the biases, first layer first. */
    public List<float[]> biasVectors() {
        List<float[]> out = new ArrayList<>();
        for (Tensor b : biases) {
            out.add(b.toArray());
        }
        return out;
    }

    /** Number of trainable parameters. */
    public long parameterCount() {
        long n = 0;
        for (int l = 0; l < layers(); l++) {
            n += weights.get(l).size() + biases.get(l).size();
        }
        return n;
    }

    /** A deep copy in host memory. */
    public Mlp copy() {
        return fromMatrices(weightMatrices(), biasVectors());
    }

    /** A deep copy in {@code backend}'s memory (host or device). */
    public Mlp copyTo(Backend backend) {
        List<Tensor> ws = new ArrayList<>();
        List<Tensor> bs = new ArrayList<>();
        for (int l = 0; l < layers(); l++) {
            Tensor w = backend.zeros(weights.get(l).rows(), weights.get(l).cols());
            w.copyFrom(weights.get(l));
            ws.add(w);
            Tensor b = backend.zeros(1, biases.get(l).cols());
            b.copyFrom(biases.get(l));
            bs.add(b);
        }
        return new Mlp(widths, ws, bs);
    }

    @Override
    public void close() {
        weights.forEach(Tensor::close);
        biases.forEach(Tensor::close);
    }
}
