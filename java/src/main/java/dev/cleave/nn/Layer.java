package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;
import java.util.List;
import java.util.Locale;

/**
 * One kind of layer in a {@link Network}'s sequence. Each kind is one class with its token in
 * the {@code --arch} grammar ({@link Arch}), its output shape, its parameters (names and
 * PyTorch shapes as {@code torch.nn} gives them), its PyTorch module, and its forward and
 * backward pass on a {@link Backend}. Kinds are immutable; the parameter tensors live in the
 * {@link Network}, the activations and scratch buffers in a {@link NetworkPass}.
 */
public sealed interface Layer permits Layer.Linear, Layer.Conv2d, Layer.MaxPool2d, Layer.BatchNorm2d, Layer.Relu,
        Layer.Dropout, Layer.Flatten {

    /** What a parameter is for: how it is initialised and whether Adam, penalties and pruning touch it. */
    enum Role {
        /** a linear or conv weight: Glorot-uniform init, L1/L2 penalty, magnitude pruning, Adam */
        WEIGHT,
        /** a linear or conv bias: zeros, Adam */
        BIAS,
        /** batchnorm's gamma: ones, Adam */
        SCALE,
        /** batchnorm's beta: zeros, Adam */
        SHIFT,
        /** batchnorm's running mean: zeros, updated by the forward pass in training, no gradient */
        RUNNING_MEAN,
        /** batchnorm's running variance: ones, as the running mean */
        RUNNING_VAR;

        public boolean trainable() {
            return this != RUNNING_MEAN && this != RUNNING_VAR;
        }
    }

    /**
     * One parameter: its name in the module ({@code weight}, {@code bias}, {@code running_mean},
     * {@code running_var}), its tensor shape here (rows x cols) and in PyTorch ({@code dims}), and
     * for a weight its fan-in and fan-out (Glorot's bound sqrt(6 / (fanIn + fanOut))).
     */
    record Param(String name, int rows, int cols, long[] dims, Role role, int fanIn, int fanOut) {}

    /** The layer's token in the --arch grammar, canonical (parsing it gives this layer back). */
    String token();

    /** The output shape for input {@code in}; an {@link InvalidInputException} when the layer cannot take it. */
    Shape out(Shape in);

    /** The parameters for input {@code in}, in PyTorch's state_dict order. */
    default List<Param> params(Shape in) {
        return List.of();
    }

    /** The {@code torch.nn} module, as Python source, for input {@code in}. */
    String pytorch(Shape in);

    /** Whether the output is the input tensor itself, changed in place (relu, dropout, flatten). */
    default boolean inPlace() {
        return false;
    }

    /** Runs the layer forward on {@code s}'s first {@code s.batch} rows. */
    void forward(NetworkPass.Step s);

    /** Runs it backward: dy holds dL/dy; writes the parameter gradients and dx (when not null). */
    void backward(NetworkPass.Step s);

    /** linear:N[:nobias] — y = x w^T + b, w (out x in) as {@code nn.Linear(in, out, bias)}. */
    record Linear(int outFeatures, boolean bias) implements Layer {
        @Override
        public String token() {
            return "linear:" + outFeatures + (bias ? "" : ":nobias");
        }

        @Override
        public Shape out(Shape in) {
            if (!in.flat()) {
                throw new InvalidInputException("linear needs a flat input but gets " + in + ": put flatten before it");
            }
            return Shape.vector(outFeatures);
        }

        @Override
        public List<Param> params(Shape in) {
            int n = in.size();
            Param w = new Param("weight", outFeatures, n, new long[] {outFeatures, n}, Role.WEIGHT, n, outFeatures);
            return bias ? List.of(w, new Param("bias", 1, outFeatures, new long[] {outFeatures}, Role.BIAS, 0, 0)) : List.of(w);
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.Linear(" + in.size() + ", " + outFeatures + (bias ? "" : ", bias=False") + ")";
        }

        @Override
        public void forward(NetworkPass.Step s) {
            s.backend.linearForward(s.x, s.param(0), bias ? s.param(1) : null, s.y, s.relu);
        }

        @Override
        public void backward(NetworkPass.Step s) {
            s.backend.linearBackward(s.x, s.param(0), s.y, s.dy, s.dx, s.grad(0), bias ? s.grad(1) : null, s.relu);
        }
    }

    /**
     * conv:C[:kK][:sS][:pP][:nobias] — {@code nn.Conv2d(in, C, K, stride=S, padding=P, bias)},
     * weight (C, in, K, K); by default K = 3, S = 1 and P = (K - 1) / 2 ("same" for odd K).
     */
    record Conv2d(int outChannels, int kernel, int stride, int padding, boolean bias) implements Layer {
        @Override
        public String token() {
            StringBuilder sb = new StringBuilder("conv:").append(outChannels);
            if (kernel != 3) {
                sb.append(":k").append(kernel);
            }
            if (stride != 1) {
                sb.append(":s").append(stride);
            }
            if (padding != (kernel - 1) / 2) {
                sb.append(":p").append(padding);
            }
            return sb.append(bias ? "" : ":nobias").toString();
        }

        Conv2dShape shape(int batch, Shape in) {
            return new Conv2dShape(batch, in.channels(), in.height(), in.width(), outChannels, kernel, stride, padding);
        }

        @Override
        public Shape out(Shape in) {
            if (in.height() + 2L * padding < kernel || in.width() + 2L * padding < kernel) {
                throw new InvalidInputException("a " + kernel + "x" + kernel + " kernel does not fit its " + in
                        + " input with padding " + padding);
            }
            Conv2dShape c = shape(1, in);
            return new Shape(outChannels, c.outHeight(), c.outWidth());
        }

        @Override
        public List<Param> params(Shape in) {
            int patch = in.channels() * kernel * kernel;
            Param w = new Param("weight", outChannels, patch, new long[] {outChannels, in.channels(), kernel, kernel}, Role.WEIGHT,
                    patch, outChannels * kernel * kernel);
            return bias ? List.of(w, new Param("bias", 1, outChannels, new long[] {outChannels}, Role.BIAS, 0, 0)) : List.of(w);
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.Conv2d(" + in.channels() + ", " + outChannels + ", " + kernel + ", stride=" + stride + ", padding="
                    + padding + (bias ? "" : ", bias=False") + ")";
        }

        @Override
        public void forward(NetworkPass.Step s) {
            s.backend.conv2dForward(shape(s.batch, s.in), s.x, s.param(0), bias ? s.param(1) : null, s.y, s.relu);
        }

        @Override
        public void backward(NetworkPass.Step s) {
            s.backend.conv2dBackward(shape(s.batch, s.in), s.x, s.param(0), s.y, s.dy, s.dx, s.grad(0), bias ? s.grad(1) : null,
                    s.relu);
        }
    }

    /** maxpool[:K][:sS] — {@code nn.MaxPool2d(K, stride=S)}, K = 2 and S = K by default. */
    record MaxPool2d(int kernel, int stride) implements Layer {
        @Override
        public String token() {
            return "maxpool" + (kernel == 2 && stride == 2 ? "" : ":" + kernel + (stride == kernel ? "" : ":s" + stride));
        }

        Pool2dShape shape(int batch, Shape in) {
            return new Pool2dShape(batch, in.channels(), in.height(), in.width(), kernel, stride);
        }

        @Override
        public Shape out(Shape in) {
            if (kernel > in.height() || kernel > in.width()) {
                throw new InvalidInputException("a " + kernel + "x" + kernel + " window does not fit its " + in + " input");
            }
            Pool2dShape p = shape(1, in);
            return new Shape(in.channels(), p.outHeight(), p.outWidth());
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.MaxPool2d(" + kernel + ", stride=" + stride + ")";
        }

        @Override
        public void forward(NetworkPass.Step s) {
            s.backend.maxpool2dForward(shape(s.batch, s.in), s.x, s.y, s.argmax);
        }

        @Override
        public void backward(NetworkPass.Step s) {
            if (s.dx != null) {
                s.backend.maxpool2dBackward(shape(s.batch, s.in), s.dy, s.argmax, s.dx);
            }
        }
    }

    /**
     * bn — {@code nn.BatchNorm2d(C)} (eps 1e-5, momentum 0.1): batch statistics in training,
     * running statistics in eval.
     */
    record BatchNorm2d() implements Layer {
        public static final float MOMENTUM = 0.1f;
        public static final float EPS = 1e-5f;

        @Override
        public String token() {
            return "bn";
        }

        @Override
        public Shape out(Shape in) {
            return in;
        }

        @Override
        public List<Param> params(Shape in) {
            int c = in.channels();
            long[] dims = {c};
            return List.of(new Param("weight", 1, c, dims, Role.SCALE, 0, 0), new Param("bias", 1, c, dims, Role.SHIFT, 0, 0),
                    new Param("running_mean", 1, c, dims, Role.RUNNING_MEAN, 0, 0),
                    new Param("running_var", 1, c, dims, Role.RUNNING_VAR, 0, 0));
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.BatchNorm2d(" + in.channels() + ")";
        }

        BatchNorm2dShape shape(int batch, Shape in) {
            return new BatchNorm2dShape(batch, in.channels(), in.height(), in.width());
        }

        @Override
        public void forward(NetworkPass.Step s) {
            s.backend.batchnorm2dForward(shape(s.batch, s.in), s.x, s.param(0), s.param(1), s.param(2), s.param(3), s.y,
                    s.saveMean, s.saveInvStd, s.training, MOMENTUM, EPS);
        }

        @Override
        public void backward(NetworkPass.Step s) {
            s.backend.batchnorm2dBackward(shape(s.batch, s.in), s.x, s.param(0), s.saveMean, s.saveInvStd, s.dy, s.dx,
                    s.grad(0), s.grad(1), true);
        }
    }

    /** relu — {@code nn.ReLU()}; after a linear or conv layer it is fused into that layer's kernel. */
    record Relu() implements Layer {
        @Override
        public String token() {
            return "relu";
        }

        @Override
        public Shape out(Shape in) {
            return in;
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.ReLU()";
        }

        @Override
        public boolean inPlace() {
            return true;
        }

        @Override
        public void forward(NetworkPass.Step s) {
            s.backend.reluForward(s.y);
        }

        @Override
        public void backward(NetworkPass.Step s) {
            s.backend.reluBackward(s.y, s.dy);
        }
    }

    /** dropout:P — {@code nn.Dropout(P)}: in training, zeroes each value with probability P and scales the rest by 1/(1-P). */
    record Dropout(float p) implements Layer {
        public Dropout {
            if (!(p >= 0f && p < 1f)) {
                throw new InvalidInputException("dropout's probability must be in [0, 1), got " + p);
            }
        }

        @Override
        public String token() {
            return "dropout:" + p;
        }

        @Override
        public Shape out(Shape in) {
            return in;
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.Dropout(" + p + ")";
        }

        @Override
        public boolean inPlace() {
            return true;
        }

        @Override
        public void forward(NetworkPass.Step s) {
            if (s.training && p > 0f) {
                s.backend.dropoutForward(s.y, s.mask, p, s.dropoutSeed, s.stream);
            }
        }

        @Override
        public void backward(NetworkPass.Step s) {
            if (p > 0f) {
                s.backend.dropoutBackward(s.dy, s.mask);
            }
        }
    }

    /** flatten — {@code nn.Flatten()}: (C, H, W) read as C*H*W values; NCHW rows are already flat, so nothing moves. */
    record Flatten() implements Layer {
        @Override
        public String token() {
            return "flatten";
        }

        @Override
        public Shape out(Shape in) {
            return Shape.vector(in.size());
        }

        @Override
        public String pytorch(Shape in) {
            return "nn.Flatten()";
        }

        @Override
        public boolean inPlace() {
            return true;
        }

        @Override
        public void forward(NetworkPass.Step s) {}

        @Override
        public void backward(NetworkPass.Step s) {}
    }

    /** Lower-cased, for token matching. */
    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
