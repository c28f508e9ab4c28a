package dev.cleave.circuits;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.data.Dataset;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Tensor;
import dev.cleave.train.Evaluation;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Cluster ablation (G24): do a model's clusters specialise in labels?
 * For each cluster c, OFF(c) zeroes c's rows (output neurons labelled c) and columns (input
 * neurons labelled c) in every clustered layer, and ON(c) zeroes every other cluster's rows and
 * columns; each ablated model is evaluated per label on the test set. Only weights are zeroed:
 * biases stay, so an ablated unit outputs the constant ReLU(bias). Ablations run on copies; the
 * caller's model is never modified.
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
        if (test.count() == 0) {
            throw new InvalidInputException(test.name() + " has no images to evaluate the ablations on");
        }
        int labels = model.outputs();
        int steps = 2 * k + 1;
        Evaluation intact = Evaluation.of(model, test, backend);
        progress.progress(TASK, 1, steps);
        double[][] off = new double[k][];
        double[][] on = new double[k][];
        for (int c = 0; c < k; c++) {
            int cluster = c;
            off[c] = ablatedAccuracy(model, clusters, label -> label == cluster, test, backend);
            progress.progress(TASK, 2 + 2L * c, steps);
            on[c] = ablatedAccuracy(model, clusters, label -> label != cluster, test, backend);
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
                Tensor w = copy.weight(lc.layer());
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
