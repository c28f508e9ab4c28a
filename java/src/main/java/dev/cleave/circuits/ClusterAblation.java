package dev.cleave.circuits;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.data.Dataset;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.nn.Tensor;
import dev.cleave.train.Evaluation;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Cluster ablation (G24): do a model's clusters specialise in labels?
 * For each cluster c, OFF(c) zeroes c's rows (output neurons labelled c) and columns (input
 * neurons labelled c) in every clustered layer, and ON(c) zeroes every other cluster's rows and
 * columns; each ablated model is evaluated per label on the test set. In an MLP (and a
 * network's linear layers) only weights are zeroed: biases stay, so an ablated unit outputs the
 * constant ReLU(bias); a conv cluster is switched off as whole output channels (see
 * {@link #run(Network, List, Dataset, Backend, Options, ProgressListener)}). Ablations run on
 * copies; the caller's model is never modified.
 *
 * <p>Progress goes to the listener as task {@value #TASK}, one unit per evaluation (2k + 1).
 */
public final class ClusterAblation {
    /** The progress task name. */
    public static final String TASK = "cluster ablation";
    /** Default {@link Options#importanceThreshold()}: an OFF accuracy drop of 10 points. */
    public static final double DEFAULT_IMPORTANCE_THRESHOLD = 0.1;

    /**
     * @param importanceThreshold cluster c is important for label y when OFF(c) drops y's
     *                            accuracy by more than this (in [0, 1); default
     *                            {@value #DEFAULT_IMPORTANCE_THRESHOLD})
     */
    public record Options(@JsonProperty("importance_threshold") double importanceThreshold) {
        public Options {
            if (!(importanceThreshold >= 0 && importanceThreshold < 1)) {
                throw new InvalidInputException("importance threshold must be an accuracy drop in [0, 1), got "
                        + importanceThreshold);
            }
        }

        public static Options defaults() {
            return new Options(DEFAULT_IMPORTANCE_THRESHOLD);
        }
    }

    private ClusterAblation() {}

    /**
     * Runs OFF and ON ablations of every cluster of {@code clusters} (the clustered layers, all
     * with the same k) and evaluates them on {@code test} with {@code backend}.
     */
    public static AblationResult run(Mlp model, List<LayerClusters> clusters, Dataset test, Backend backend,
            Options options, ProgressListener progress) {
        int k = validate(model, clusters);
        Evaluation.requireCompatible(model, test);
        requireImages(test);
        return run(k, clusters, test, Evaluation.of(model, test, backend), zeroed -> ablatedAccuracy(model, clusters, zeroed,
                test, backend), options, progress);
    }

    /**
     * The ablations of a network's clusters (layer = the layer's index in the network's
     * sequence, {@code layers.<i>}). A cluster of a linear layer is ablated as in an MLP: its
     * rows and columns are zeroed, the bias stays. A cluster of a conv layer is its output
     * channels (the row labels; the column labels are not used): OFF(c) zeroes those channels'
     * kernel rows K[j, :, :, :] and their biases, and where a batchnorm follows the conv, its
     * scale and shift for those channels, so the channels' activations after the layer (and its
     * batchnorm) are exactly 0. Ablations run on copies; the caller's network is never modified.
     */
    public static AblationResult run(Network network, List<LayerClusters> clusters, Dataset test, Backend backend,
            Options options, ProgressListener progress) {
        int k = validate(network, clusters);
        Evaluation.requireCompatible(network, test);
        requireImages(test);
        return run(k, clusters, test, Evaluation.of(network, test, backend), zeroed -> {
            try (Network copy = ablated(network, clusters, zeroed)) {
                return Evaluation.of(copy, test, backend).perClassAccuracy();
            }
        }, options, progress);
    }

    private static void requireImages(Dataset test) {
        if (test.count() == 0) {
            throw new InvalidInputException(test.name() + " has no images to evaluate the ablations on");
        }
    }

    /** What one ablation evaluates: per-label accuracy with the clusters {@code zeroed} accepts switched off. */
    private interface Ablate {
        double[] accuracy(IntPredicate zeroed);
    }

    private static AblationResult run(int k, List<LayerClusters> clusters, Dataset test, Evaluation intact, Ablate ablate,
            Options options, ProgressListener progress) {
        int labels = intact.perClassAccuracy().length;
        int steps = 2 * k + 1;
        progress.progress(TASK, 1, steps);
        double[][] off = new double[k][];
        double[][] on = new double[k][];
        for (int c = 0; c < k; c++) {
            int cluster = c;
            off[c] = ablate.accuracy(label -> label == cluster);
            progress.progress(TASK, 2 + 2L * c, steps);
            on[c] = ablate.accuracy(label -> label != cluster);
            progress.progress(TASK, 3 + 2L * c, steps);
        }
        double[] base = intact.perClassAccuracy();
        double[][] offDrop = drops(base, off);
        double[][] onDrop = drops(base, on);

        int[] mostNeeded = new int[labels];
        int[][] important = new int[labels][];
        List<BitSet> importantSets = new ArrayList<>();
        for (int y = 0; y < labels; y++) {
            mostNeeded[y] = -1;
            double best = 0;
            BitSet set = new BitSet();
            for (int c = 0; c < k; c++) {
                if (offDrop[c][y] > best) {
                    best = offDrop[c][y];
                    mostNeeded[y] = c;
                }
                if (offDrop[c][y] > options.importanceThreshold()) {
                    set.set(c);
                }
            }
            important[y] = set.stream().toArray();
            importantSets.add(set);
        }
        int[] layers = clusters.stream().mapToInt(LayerClusters::layer).sorted().toArray();
        return new AblationResult(test.name(), layers, k, intact.perClassCount(), base, off, on, offDrop, onDrop,
                mostNeeded, specialisation(offDrop), options.importanceThreshold(), important,
                Jaccard.matrix(importantSets));
    }

    /**
     * A host copy of {@code network} with the clusters that {@code zeroed} accepts switched off
     * in every clustered layer, as {@link #run(Network, List, Dataset, Backend, Options, ProgressListener)}
     * describes; the caller closes it.
     */
    public static Network ablated(Network network, List<LayerClusters> clusters, IntPredicate zeroed) {
        Network copy = network.copy();
        try {
            List<Layer> layers = network.arch().layers();
            for (LayerClusters lc : clusters) {
                int l = lc.layer();
                int[] rows = lc.rowLabels();
                if (layers.get(l) instanceof Layer.Linear) {
                    zeroRowsAndColumns(tensor(copy, l, "weight"), lc, zeroed);
                } else {
                    zeroChannels(tensor(copy, l, "weight"), rows, zeroed);
                    zeroChannels(tensor(copy, l, "bias"), rows, zeroed);
                    if (l + 1 < layers.size() && layers.get(l + 1) instanceof Layer.BatchNorm2d) {
                        zeroChannels(tensor(copy, l + 1, "weight"), rows, zeroed);
                        zeroChannels(tensor(copy, l + 1, "bias"), rows, zeroed);
                    }
                }
            }
            return copy;
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /** Zeroes the rows and columns of weight {@code w} (out x in) whose cluster label {@code zeroed} accepts. */
    private static void zeroRowsAndColumns(Tensor w, LayerClusters lc, IntPredicate zeroed) {
        float[] values = w.toArray();
        int[] rows = lc.rowLabels();
        int[] cols = lc.colLabels();
        for (int r = 0; r < rows.length; r++) {
            for (int c = 0; c < cols.length; c++) {
                if (zeroed.test(rows[r]) || zeroed.test(cols[c])) {
                    values[r * cols.length + c] = 0f;
                }
            }
        }
        w.copyFrom(values);
    }

    /** Layer l's tensor named {@code name} (weight, bias), or null when the layer has none. */
    static Tensor tensor(Network network, int l, String name) {
        String full = "layers." + l + "." + name;
        for (Network.Named n : network.tensors()) {
            if (n.name().equals(full)) {
                return n.tensor();
            }
        }
        return null;
    }

    /** Zeroes row j of {@code t} (one row per channel; a bias or batchnorm vector is one value per channel) where zeroed accepts labels[j]. */
    private static void zeroChannels(Tensor t, int[] labels, IntPredicate zeroed) {
        if (t == null) {
            return;
        }
        float[] values = t.toArray();
        int per = values.length / labels.length;
        for (int j = 0; j < labels.length; j++) {
            if (zeroed.test(labels[j])) {
                Arrays.fill(values, j * per, (j + 1) * per, 0f);
            }
        }
        t.copyFrom(values);
    }

    /**
     * Checks that {@code clusters} is a non-empty list of distinct linear or conv layers of
     * {@code network}, each labelling exactly a linear weight's rows and columns (out x in) or a
     * conv's output and input channels, all with the same k; returns that k.
     */
    public static int validate(Network network, List<LayerClusters> clusters) {
        if (clusters == null || clusters.isEmpty()) {
            throw new InvalidInputException("cluster ablation needs at least one clustered layer, got none");
        }
        List<Layer> layers = network.arch().layers();
        int k = clusters.get(0).k();
        BitSet seen = new BitSet();
        for (LayerClusters lc : clusters) {
            int l = lc.layer();
            if (l >= layers.size()) {
                throw new InvalidInputException("clusters are given for layer " + l + " but the network's layers are 0.."
                        + (layers.size() - 1) + " (" + network.arch().layerList() + ")");
            }
            if (seen.get(l)) {
                throw new InvalidInputException("clusters are given twice for layer " + l);
            }
            seen.set(l);
            if (lc.k() != k) {
                throw new InvalidInputException("all clustered layers must have the same k: layer " + clusters.get(0).layer()
                        + " has k = " + k + " but layer " + l + " has k = " + lc.k());
            }
            Layer layer = layers.get(l);
            int out;
            int in;
            String what;
            if (layer instanceof Layer.Linear lin) {
                out = lin.outFeatures();
                in = network.arch().shape(l).size();
                what = "its weight is " + out + " x " + in + " (out x in)";
            } else if (layer instanceof Layer.Conv2d conv) {
                out = conv.outChannels();
                in = network.arch().shape(l).channels();
                what = "the conv has " + out + " output x " + in + " input channels";
            } else {
                throw new InvalidInputException("clusters are given for layer " + l + " (" + layer.token()
                        + "), which is neither a linear nor a conv layer");
            }
            if (lc.rows() != out || lc.cols() != in) {
                throw new InvalidInputException("layer " + l + "'s clusters label " + lc.rows() + " rows x " + lc.cols()
                        + " columns but " + what);
            }
        }
        return k;
    }

    /**
     * Checks that {@code clusters} is a non-empty list of distinct layers of {@code model}, each
     * labelling exactly its weight's rows and columns, all with the same k; returns that k.
     */
    public static int validate(Mlp model, List<LayerClusters> clusters) {
        if (clusters == null || clusters.isEmpty()) {
            throw new InvalidInputException("cluster ablation needs at least one clustered layer, got none");
        }
        int k = clusters.get(0).k();
        BitSet seen = new BitSet();
        for (LayerClusters lc : clusters) {
            int l = lc.layer();
            if (l >= model.layers()) {
                throw new InvalidInputException("clusters are given for layer " + l + " but the model's layers are 0.."
                        + (model.layers() - 1));
            }
            if (seen.get(l)) {
                throw new InvalidInputException("clusters are given twice for layer " + l);
            }
            seen.set(l);
            if (lc.k() != k) {
                throw new InvalidInputException("all clustered layers must have the same k: layer " + clusters.get(0).layer()
                        + " has k = " + k + " but layer " + l + " has k = " + lc.k());
            }
            Tensor w = model.weight(l);
            if (lc.rows() != w.rows() || lc.cols() != w.cols()) {
                throw new InvalidInputException("layer " + l + "'s clusters label " + lc.rows() + " rows x " + lc.cols()
                        + " columns but its weight is " + w.rows() + " x " + w.cols() + " (out x in)");
            }
        }
        return k;
    }

    /**
     * The specialisation score: Theil's uncertainty coefficient U(C|Y) = I(C; Y) / H(C) of the
     * joint distribution p(c, y) proportional to max(0, offDrop[c][y]), that is, the positive OFF
     * accuracy drops read as "how much label y relies on cluster c". It is the fraction of the
     * uncertainty about which cluster matters that knowing the label removes.
     * <ul>
     * <li>0: every label relies on the clusters in the same proportions (knowing the label says
     * nothing about which cluster it needs), also when one cluster carries every label (H(C) = 0),
     * and when no ablation drops any accuracy.
     * <li>1: each label's drops come from a single cluster, and not all from the same one:
     * perfect one-cluster-per-label-group specialisation, whatever the group sizes.
     * </ul>
     * Weighting by drop size, rather than counting each label's most-needed cluster, keeps labels
     * whose drops are all tiny (noise) from counting as specialised, and does not jump when two
     * clusters' drops nearly tie. Labels with NaN drops (no test images) are left out.
     *
     * @param offDrop cluster x label OFF accuracy drops
     */
    public static double specialisation(double[][] offDrop) {
        int k = offDrop.length;
        int labels = k == 0 ? 0 : offDrop[0].length;
        double mass = 0;
        double[] pc = new double[k];
        double[] py = new double[labels];
        for (int c = 0; c < k; c++) {
            for (int y = 0; y < labels; y++) {
                double d = positive(offDrop[c][y]);
                mass += d;
                pc[c] += d;
                py[y] += d;
            }
        }
        if (mass == 0) {
            return 0;
        }
        double hc = 0;
        for (double p : pc) {
            hc -= entropyTerm(p / mass);
        }
        if (hc <= 0) {
            return 0;
        }
        double mutual = 0;
        for (int c = 0; c < k; c++) {
            for (int y = 0; y < labels; y++) {
                double p = positive(offDrop[c][y]) / mass;
                if (p > 0) {
                    mutual += p * Math.log(p * mass * mass / (pc[c] * py[y]));
                }
            }
        }
        return Math.max(0, Math.min(1, mutual / hc));
    }

    private static double positive(double drop) {
        return drop > 0 ? drop : 0; // also maps NaN to 0
    }

    private static double entropyTerm(double p) {
        return p > 0 ? p * Math.log(p) : 0;
    }

    private static double[] ablatedAccuracy(Mlp model, List<LayerClusters> clusters, IntPredicate zeroed, Dataset test,
            Backend backend) {
        try (Mlp copy = model.copy()) {
            for (LayerClusters lc : clusters) {
                zeroRowsAndColumns(copy.weight(lc.layer()), lc, zeroed);
            }
            return Evaluation.of(copy, test, backend).perClassAccuracy();
        }
    }

    private static double[][] drops(double[] intact, double[][] ablated) {
        double[][] d = new double[ablated.length][intact.length];
        for (int c = 0; c < ablated.length; c++) {
            for (int y = 0; y < intact.length; y++) {
                d[c][y] = intact[y] - ablated[c][y];
            }
        }
        return d;
    }
}
