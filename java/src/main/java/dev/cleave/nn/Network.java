package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A network as a sequence of layers ({@link Arch}) with its parameter tensors: for layer i,
 * {@code layers.i.weight}, {@code layers.i.bias}, {@code layers.i.running_mean} and
 * {@code layers.i.running_var} as its kind has them ({@link Layer#params}), named as
 * {@code nn.Sequential}'s state_dict names them. A conv weight is held as (out x in*k*k), the
 * row-major layout of PyTorch's (out, in, k, k). Parameters live in native (or device) memory;
 * close the network to free them. {@link Mlp} is the MLP special case, trained by its own
 * fast path.
 */
public final class Network implements AutoCloseable {

    /** One tensor of the network: its state_dict name, what it is, its layer and the tensor. */
    public record Named(String name, int layer, Layer.Param spec, Tensor tensor) {}

    private final Arch arch;
    private final List<Named> tensors;
    private final Tensor[][] byLayer;

    private Network(Arch arch, List<Tensor> ordered) {
        this.arch = arch;
        this.byLayer = new Tensor[arch.layers().size()][];
        List<Named> named = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < arch.layers().size(); i++) {
            List<Layer.Param> ps = arch.layers().get(i).params(arch.shape(i));
            byLayer[i] = new Tensor[ps.size()];
            for (int j = 0; j < ps.size(); j++) {
                Tensor t = ordered.get(at++);
                byLayer[i][j] = t;
                named.add(new Named("layers." + i + "." + ps.get(j).name(), i, ps.get(j), t));
            }
        }
        this.tensors = List.copyOf(named);
    }

    /** The tensor specs of {@code arch} in state_dict order, with their names. */
    public static List<Named> specs(Arch arch) {
        List<Named> out = new ArrayList<>();
        for (int i = 0; i < arch.layers().size(); i++) {
            for (Layer.Param p : arch.layers().get(i).params(arch.shape(i))) {
                out.add(new Named("layers." + i + "." + p.name(), i, p, null));
            }
        }
        return out;
    }

    /**
     * The initial network: every linear and conv weight Glorot-uniform, W ~ U(-a, a) with
     * a = sqrt(6 / (fanIn + fanOut)) (a conv's fans count the kernel: in*k*k and out*k*k), drawn
     * layer by layer from the seed's "init" stream; biases and batchnorm shifts zero, batchnorm
     * scales one, running means zero and running variances one (as PyTorch).
     */
    public static Network glorotUniform(Arch arch, long seed) {
        SplittableRandom rng = Rng.stream(seed, "init");
        List<Tensor> ts = new ArrayList<>();
        for (Named n : specs(arch)) {
            Layer.Param p = n.spec();
            Tensor t = Tensor.zeros(p.rows(), p.cols());
            switch (p.role()) {
                case WEIGHT -> {
                    double a = Math.sqrt(6.0 / (p.fanIn() + p.fanOut()));
                    java.nio.FloatBuffer b = t.buffer();
                    for (int i = 0; i < t.size(); i++) {
                        b.put(i, (float) ((rng.nextDouble() * 2 - 1) * a));
                    }
                }
                case SCALE, RUNNING_VAR -> t.fill(1f);
                default -> { } // zeros
            }
            ts.add(t);
        }
        return new Network(arch, ts);
    }

    /**
     * A network from named values (as a model file holds them): every tensor of the arch must be
     * there with the right number of values and nothing else.
     *
     * @throws InvalidInputException naming the missing, extra or misshapen tensor
     */
    public static Network fromValues(Arch arch, Map<String, float[]> values) {
        List<Named> specs = specs(arch);
        for (String name : values.keySet()) {
            if (specs.stream().noneMatch(s -> s.name().equals(name))) {
                throw new InvalidInputException("tensor " + name + " is not a tensor of the arch " + arch.layerList()
                        + " (its tensors: " + specs.stream().map(Named::name).toList() + ")");
            }
        }
        List<Tensor> ts = new ArrayList<>();
        try {
            for (Named s : specs) {
                float[] v = values.get(s.name());
                if (v == null) {
                    throw new InvalidInputException("tensor " + s.name() + " is missing (the arch " + arch.layerList()
                            + " needs it)");
                }
                if (v.length != s.spec().rows() * s.spec().cols()) {
                    throw new InvalidInputException("tensor " + s.name() + " has " + v.length + " values, the arch needs "
                            + java.util.Arrays.toString(s.spec().dims()) + " = " + s.spec().rows() * s.spec().cols());
                }
                Tensor t = Tensor.zeros(s.spec().rows(), s.spec().cols());
                ts.add(t);
                t.copyFrom(v);
            }
        } catch (RuntimeException e) {
            ts.forEach(Tensor::close);
            throw e;
        }
        return new Network(arch, ts);
    }

    public Arch arch() {
        return arch;
    }

    /** Every tensor (parameters and running statistics) in state_dict order. */
    public List<Named> tensors() {
        return tensors;
    }

    /** Layer i's tensors in its {@link Layer#params} order. */
    Tensor[] layerTensors(int i) {
        return byLayer[i];
    }

    /** Trainable parameters (batchnorm's running statistics not counted). */
    public long parameterCount() {
        return arch.parameterCount();
    }

    /** A deep copy in {@code backend}'s memory (host or device). */
    public Network copyTo(Backend backend) {
        List<Tensor> ts = new ArrayList<>();
        for (Named n : tensors) {
            Tensor t = backend.zeros(n.tensor().rows(), n.tensor().cols());
            t.copyFrom(n.tensor());
            ts.add(t);
        }
        return new Network(arch, ts);
    }

    /** A deep copy in host memory. */
    public Network copy() {
        List<Tensor> ts = new ArrayList<>();
        for (Named n : tensors) {
            Tensor t = Tensor.zeros(n.tensor().rows(), n.tensor().cols());
            t.copyFrom(n.tensor().toArray());
            ts.add(t);
        }
        return new Network(arch, ts);
    }

    /** Whether the tensors are in device memory. */
    public boolean onDevice() {
        return tensors.get(0).tensor().onDevice();
    }

    @Override
    public void close() {
        tensors.forEach(n -> n.tensor().close());
    }
}
