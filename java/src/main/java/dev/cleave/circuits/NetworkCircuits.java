package dev.cleave.circuits;

import dev.cleave.data.Dataset;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.nn.NetworkPass;
import dev.cleave.nn.Shape;
import dev.cleave.nn.Tensor;
import dev.cleave.train.Evaluation;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Effective circuit sizes of a network with convolutions ({@link Network}): a feature stack
 * (the layers before the first linear layer: convs, batchnorms, pools, relus, flatten) and a
 * dense tail of linear layers with a ReLU after each but the last (dropout, the identity at
 * evaluation, may sit anywhere in it). Layers are named by their index in the network's
 * sequence ({@code layers.<i>}).
 *
 * <ul>
 * <li>{@link #denseEcs}: G24's ECS over the dense layers, the conv stack kept whole. The conv
 * features of the test images are computed once, by the {@code java} backend (float32, one fixed
 * summation order, so the result does not depend on the device chosen for the rest), and the
 * dense tail is searched by {@link EffectiveCircuitSize} exactly as an MLP whose inputs are those
 * features: the same circuit arithmetic, the same greedy order and tolerance-free comparison,
 * the same masks. The grid 2^-S is chosen from the largest feature value instead of 1.
 * <li>{@link #channelEcs}: the ECS over conv channels. Conv layers are visited last to first,
 * each layer's output channels in order; a channel is pruned as a whole (its kernel rows
 * K[j, :, :, :] zeroed; biases stay, as the weight search leaves biases) and stays pruned only
 * if the label's cross-entropy stays no higher than the unpruned network's. Each trial
 * recomputes the label's features with the {@code java} backend and evaluates the dense tail in
 * the circuit arithmetic, whose totals are compared as integers without tolerance; the grid is
 * chosen from a bound on the features that holds for every pruning of the channels
 * (|bias| + the sum of |kernel| times the input's bound, channel by channel). ECS = channels kept
 * over channels of the searched conv layers; a channel whose kernel rows are all zero counts as
 * pruned. One whole-feature evaluation per channel and label (the naive method); labels run one
 * after another.
 * </ul>
 */
public final class NetworkCircuits {
    /** The progress task name of the channel search. */
    public static final String CHANNEL_TASK = "channel circuit size";
    /** {@link EcsResult#unit()} of the dense search on a network. */
    public static final String WEIGHTS = "weights";
    /** {@link EcsResult#unit()} of the channel search. */
    public static final String CHANNELS = "channels";

    private NetworkCircuits() {}

    /** The sequence indices of the network's linear layers, first first. */
    public static int[] linearLayers(Arch arch) {
        return IntStream.range(0, arch.layers().size()).filter(i -> arch.layers().get(i) instanceof Layer.Linear).toArray();
    }

    /** The sequence indices of the network's conv layers, first first. */
    public static int[] convLayers(Arch arch) {
        return IntStream.range(0, arch.layers().size()).filter(i -> arch.layers().get(i) instanceof Layer.Conv2d).toArray();
    }

    /**
     * The index of the first linear layer: layers before it are the feature stack, layers from
     * it on must be linear layers with a relu after each but the last (dropouts anywhere).
     *
     * @throws InvalidInputException saying which layer breaks the shape
     */
    static int tailStart(Arch arch) {
        List<Layer> layers = arch.layers();
        int[] linear = linearLayers(arch);
        if (linear.length == 0) {
            throw new InvalidInputException("the network " + arch.layerList() + " has no linear layers: no dense circuit to search");
        }
        int first = linear[0];
        int last = linear[linear.length - 1];
        boolean reluPending = false;
        for (int i = first; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l instanceof Layer.Linear) {
                if (reluPending) {
                    throw new InvalidInputException("layer " + i + " (" + l.token() + ") follows a linear layer without a relu: "
                            + "the circuit search needs a relu after every linear layer but the last (" + arch.layerList() + ")");
                }
                reluPending = i != last;
            } else if (l instanceof Layer.Relu) {
                if (!reluPending) {
                    throw new InvalidInputException("layer " + i + " (relu) does not follow a linear layer"
                            + (i > last ? " (a relu after the logits)" : "") + ": the circuit search needs the dense tail "
                            + "linear, relu, ..., linear (" + arch.layerList() + ")");
                }
                reluPending = false;
            } else if (!(l instanceof Layer.Dropout)) {
                throw new InvalidInputException("layer " + i + " (" + l.token() + ") comes after the first linear layer: the "
                        + "circuit search needs the dense tail to hold only linear, relu and dropout layers (" + arch.layerList() + ")");
            }
        }
        return first;
    }

    /** The dense tail as an MLP in host memory (a missing bias reads as 0); the caller closes it. */
    public static Mlp denseTail(Network network) {
        Arch arch = network.arch();
        tailStart(arch);
        List<FloatMatrix> ws = new ArrayList<>();
        List<float[]> bs = new ArrayList<>();
        for (int l : linearLayers(arch)) {
            Tensor w = ClusterAblation.tensor(network, l, "weight");
            ws.add(new FloatMatrix(w.rows(), w.cols(), w.toArray()));
            Tensor b = ClusterAblation.tensor(network, l, "bias");
            bs.add(b == null ? new float[w.rows()] : b.toArray());
        }
        return Mlp.fromMatrices(ws, bs);
    }

    /** The feature stack (layers before the first linear one) as its own network in host memory; the caller closes it. */
    static Network featureStack(Network network) {
        Arch arch = network.arch();
        int f = tailStart(arch);
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < f; i++) {
            tokens.add(arch.layers().get(i).token());
        }
        if (tokens.isEmpty()) {
            tokens.add(new Layer.Flatten().token());
        }
        Arch prefix = Arch.parse(String.join(",", tokens), arch.input());
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Network.Named n : network.tensors()) {
            if (n.layer() < f) {
                values.put(n.name(), n.tensor().toArray());
            }
        }
        return Network.fromValues(prefix, values);
    }

    /** The features (the feature stack's output, eval mode) of {@code count} images, with {@code ops}. */
    static float[] features(Network stack, float[] images, int count, Backend ops) {
        int out = stack.arch().output().size();
        float[] result = new float[count * out];
        int batchMax = Math.min(Evaluation.BATCH, Math.max(1, count));
        int[] noLabels = new int[count];
        try (NetworkPass pass = new NetworkPass(ops, stack, batchMax)) {
            for (int start = 0; start < count; start += batchMax) {
                int batch = Math.min(batchMax, count - start);
                pass.loadBatch(images, noLabels, null, start, batch);
                float[] f = pass.forward(batch, false, 0, 0).toArray();
                System.arraycopy(f, 0, result, start * out, batch * out);
            }
        }
        return result;
    }

    /**
     * G24's effective circuit size over the dense layers of {@code network} (see the class
     * comment). {@code options.layers()} are sequence indices of linear layers (null: all); the
     * result's {@code layers} are sequence indices too, and its unit is {@value #WEIGHTS}.
     */
    public static EcsResult denseEcs(Network network, Dataset test, EffectiveCircuitSize.Options options,
            ProgressListener progress) {
        Evaluation.requireCompatible(network, test);
        int[] linear = linearLayers(network.arch());
        int[] tailLayers = options.layers() == null ? null : toPositions(options.layers(), linear, "linear", network.arch());
        EffectiveCircuitSize.Options inner = new EffectiveCircuitSize.Options(options.labels(), options.imagesPerLabel(),
                tailLayers, options.method(), options.threads());
        float[] features;
        try (Network stack = featureStack(network); Backend java = dev.cleave.nn.Device.java().open()) {
            features = features(stack, test.images(), test.count(), java);
        }
        try (Mlp tail = denseTail(network)) {
            double[] bound = new double[tail.inputs()];
            for (int n = 0; n < test.count(); n++) {
                for (int j = 0; j < bound.length; j++) {
                    bound[j] = Math.max(bound[j], Math.abs(features[n * bound.length + j]));
                }
            }
            EcsResult r = EffectiveCircuitSize.search(tail, test.name(), features, test.labels(), bound, inner, progress);
            int[] seq = Arrays.stream(r.layers()).map(p -> linear[p]).toArray();
            int[] counts = test.classCounts();
            boolean truncated = r.circuits().stream().anyMatch(c -> c.images() < counts[c.label()]);
            String approximation = EffectiveCircuitSize.approximation(truncated ? options.imagesPerLabel() : 0,
                    seq.length < linear.length ? seq : null);
            return new EcsResult(options, r.dataset(), seq, r.weights(), r.scaleBits(), approximation, r.circuits(),
                    r.circuitOverlap(), r.seconds(), WEIGHTS);
        }
    }

    /** Positions in {@code allowed} of the sequence indices {@code layers}; an error naming a layer that is not of the kind. */
    private static int[] toPositions(int[] layers, int[] allowed, String kind, Arch arch) {
        int[] out = new int[layers.length];
        for (int i = 0; i < layers.length; i++) {
            int at = -1;
            for (int p = 0; p < allowed.length; p++) {
                if (allowed[p] == layers[i]) {
                    at = p;
                }
            }
            if (at < 0) {
                throw new InvalidInputException("layer " + layers[i] + " is not a " + kind + " layer of " + arch.layerList()
                        + " (its " + kind + " layers: " + Arrays.toString(allowed) + ")");
            }
            out[i] = at;
        }
        return out;
    }

    /**
     * The effective circuit size over conv channels (see the class comment).
     * {@code options.layers()} are sequence indices of conv layers (null: every conv layer);
     * {@code options.method()} is not used (the search is one evaluation per channel) and
     * {@code options.threads()} neither (labels run in turn). The result's unit is
     * {@value #CHANNELS}: its {@code weights} and each circuit's {@code kept} count channels.
     */
    public static EcsResult channelEcs(Network network, Dataset test, EffectiveCircuitSize.Options options,
            ProgressListener progress) {
        long start = System.nanoTime();
        Evaluation.requireCompatible(network, test);
        Arch arch = network.arch();
        int[] conv = convLayers(arch);
        if (conv.length == 0) {
            throw new InvalidInputException("the network " + arch.layerList() + " has no conv layers: no channel circuit to search");
        }
        int[] layers = options.layers() == null ? conv.clone() : options.layers();
        toPositions(layers, conv, "conv", arch);
        Arrays.sort(layers);
        int classes = arch.output().size();
        int[] labels = options.labels() == null ? IntStream.range(0, classes).toArray() : options.labels();
        int[] available = test.classCounts();
        boolean truncated = false;
        for (int label : labels) {
            if (label >= classes) {
                throw new InvalidInputException("label " + label + " is outside the model's classes 0.." + (classes - 1));
            }
            if (available[label] == 0) {
                throw new InvalidInputException("label " + label + " has no images in " + test.name() + ": its circuit is undefined");
            }
            int count = options.imagesPerLabel() == 0 ? available[label] : Math.min(options.imagesPerLabel(), available[label]);
            if (count > CircuitArithmetic.MAX_IMAGES) {
                throw new InvalidInputException("label " + label + " has " + count + " images in " + test.name()
                        + "; the search takes at most " + CircuitArithmetic.MAX_IMAGES + " per label: set images per label");
            }
            truncated |= count < available[label];
        }
        long channels = 0;
        for (int l : layers) {
            channels += ((Layer.Conv2d) arch.layers().get(l)).outChannels();
        }
        String approximation = EffectiveCircuitSize.approximation(truncated ? options.imagesPerLabel() : 0,
                layers.length < conv.length ? layers : null);
        long total = channels * labels.length;
        long done = 0;
        List<LabelCircuit> circuits = new ArrayList<>();
        try (Mlp tail = denseTail(network); CircuitArithmetic arithmetic = new CircuitArithmetic(tail, featureBound(network));
                Backend java = dev.cleave.nn.Device.java().open()) {
            for (int label : labels) {
                int count = options.imagesPerLabel() == 0 ? available[label] : Math.min(options.imagesPerLabel(), available[label]);
                float[] images = EffectiveCircuitSize.rowsOf(test.images(), test.labels(), test.features(), label, count);
                try (Network stack = featureStack(network)) {
                    long baseline = tailLoss(arithmetic, features(stack, images, count, java), count, label);
                    long current = baseline;
                    BitSet mask = new BitSet();
                    long[] keptPerLayer = new long[layers.length];
                    int[] firstBit = new int[layers.length];
                    for (int k = 1; k < layers.length; k++) {
                        firstBit[k] = firstBit[k - 1] + ((Layer.Conv2d) arch.layers().get(layers[k - 1])).outChannels();
                    }
                    for (int k = layers.length - 1; k >= 0; k--) {
                        Tensor w = ClusterAblation.tensor(stack, layers[k], "weight");
                        float[] values = w.toArray();
                        int out = w.rows();
                        int per = w.cols();
                        for (int j = 0; j < out; j++) {
                            if (progress != null) {
                                progress.progress(CHANNEL_TASK, done++, total);
                            }
                            float[] saved = Arrays.copyOfRange(values, j * per, (j + 1) * per);
                            boolean allZero = true;
                            for (float v : saved) {
                                allZero &= v == 0f;
                            }
                            if (allZero) {
                                continue; // already pruned
                            }
                            Arrays.fill(values, j * per, (j + 1) * per, 0f);
                            w.copyFrom(values);
                            long trial = tailLoss(arithmetic, features(stack, images, count, java), count, label);
                            if (trial <= baseline) {
                                current = trial;
                            } else {
                                System.arraycopy(saved, 0, values, j * per, per);
                                w.copyFrom(values);
                                mask.set(firstBit[k] + j);
                                keptPerLayer[k]++;
                            }
                        }
                    }
                    long kept = mask.cardinality();
                    circuits.add(new LabelCircuit(label, count, (double) kept / channels, kept, keptPerLayer,
                            baseline * CircuitArithmetic.LOSS_UNIT / count, current * CircuitArithmetic.LOSS_UNIT / count,
                            mask.toByteArray()));
                }
            }
            if (progress != null) {
                progress.progress(CHANNEL_TASK, total, total);
            }
            List<BitSet> masks = circuits.stream().map(LabelCircuit::keptMask).toList();
            return new EcsResult(options, test.name(), layers, channels, arithmetic.scaleBits, approximation, circuits,
                    Jaccard.matrix(masks), (System.nanoTime() - start) / 1e9, CHANNELS);
        }
    }

    private static long tailLoss(CircuitArithmetic arithmetic, float[] features, int count, int label) {
        try (FloatPointer p = new FloatPointer(features)) {
            return arithmetic.lossTotal(arithmetic.weights, p, count, label);
        }
    }

    /**
     * A bound on |feature j| that holds for every image in [0, 1] and every pruning of conv
     * channels (zeroed kernel rows): propagated layer by layer, channel by channel; a conv's
     * output channel is at most |bias| + sum over input channels of the kernel slice's L1 norm
     * times that channel's bound, a relu, pool or dropout keeps the bound, a batchnorm maps b to
     * |gamma| / sqrt(var + eps) * (b + |mean|) + |beta|.
     */
    static double[] featureBound(Network network) {
        Arch arch = network.arch();
        int f = tailStart(arch);
        Shape in = arch.input();
        double[] bound = new double[in.channels()];
        Arrays.fill(bound, 1.0);
        for (int i = 0; i < f; i++) {
            Layer l = arch.layers().get(i);
            if (l instanceof Layer.Conv2d c) {
                float[] w = ClusterAblation.tensor(network, i, "weight").toArray();
                Tensor bt = ClusterAblation.tensor(network, i, "bias");
                float[] b = bt == null ? new float[c.outChannels()] : bt.toArray();
                int inC = arch.shape(i).channels();
                int slice = c.kernel() * c.kernel();
                double[] next = new double[c.outChannels()];
                for (int o = 0; o < next.length; o++) {
                    double s = Math.abs(b[o]);
                    for (int ic = 0; ic < inC; ic++) {
                        double l1 = 0;
                        for (int t = 0; t < slice; t++) {
                            l1 += Math.abs(w[(o * inC + ic) * slice + t]);
                        }
                        s += l1 * bound[ic];
                    }
                    next[o] = s;
                }
                bound = next;
            } else if (l instanceof Layer.BatchNorm2d) {
                float[] gamma = ClusterAblation.tensor(network, i, "weight").toArray();
                float[] beta = ClusterAblation.tensor(network, i, "bias").toArray();
                float[] mean = ClusterAblation.tensor(network, i, "running_mean").toArray();
                float[] var = ClusterAblation.tensor(network, i, "running_var").toArray();
                for (int ch = 0; ch < bound.length; ch++) {
                    bound[ch] = Math.abs(gamma[ch]) / Math.sqrt(var[ch] + Layer.BatchNorm2d.EPS) * (bound[ch] + Math.abs(mean[ch]))
                            + Math.abs(beta[ch]);
                }
            }
        }
        Shape out = arch.shape(f);
        int plane = out.size() / bound.length;
        double[] flat = new double[out.size()];
        for (int j = 0; j < flat.length; j++) {
            flat[j] = bound[j / plane];
        }
        return flat;
    }

    /**
     * The sequence index of a layer named {@code name}: its index ({@code 5}), its module or
     * weight name ({@code layers.5}, {@code layers.5.weight}), or G24's names {@code fcN} /
     * {@code convN}, the N-th linear / conv layer counted from 1.
     *
     * @throws InvalidInputException listing the layers that can be named
     */
    public static int layerIndex(Arch arch, String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        int[] linear = linearLayers(arch);
        int[] conv = convLayers(arch);
        int index = -1;
        try {
            if (n.matches("fc\\d+")) {
                int i = Integer.parseInt(n.substring(2));
                index = i >= 1 && i <= linear.length ? linear[i - 1] : -1;
            } else if (n.matches("conv\\d+")) {
                int i = Integer.parseInt(n.substring(4));
                index = i >= 1 && i <= conv.length ? conv[i - 1] : -1;
            } else if (n.matches("(layers\\.)?\\d+(\\.weight)?")) {
                index = Integer.parseInt(n.replace("layers.", "").replace(".weight", ""));
            }
        } catch (NumberFormatException e) {
            index = -1;
        }
        if (index < 0 || index >= arch.layers().size()
                || !(arch.layers().get(index) instanceof Layer.Linear || arch.layers().get(index) instanceof Layer.Conv2d)) {
            StringBuilder known = new StringBuilder();
            for (int i = 0; i < linear.length; i++) {
                known.append(known.length() == 0 ? "" : ", ").append("fc").append(i + 1).append(" = ").append(linear[i]);
            }
            for (int i = 0; i < conv.length; i++) {
                known.append(", conv").append(i + 1).append(" = ").append(conv[i]);
            }
            throw new InvalidInputException("layer '" + name + "' is not a linear or conv layer of " + arch.layerList()
                    + " (name one as fcN or convN, or by its index: " + known + ")");
        }
        return index;
    }

    /** The linear layers between the first and the last: the dense hidden-to-hidden layers (G24 clusters fc2 of four). */
    public static int[] hiddenLinearLayers(Arch arch) {
        int[] linear = linearLayers(arch);
        return linear.length < 3 ? new int[0] : Arrays.copyOfRange(linear, 1, linear.length - 1);
    }
}
