package dev.cleave.circuits;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.data.Dataset;
import dev.cleave.nativ.CircuitsKernels;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nn.Mlp;
import dev.cleave.train.Evaluation;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Effective circuit size (ECS) of each label, as G24 defines it: go
 * through the linear layers from last to first and, within a layer, through its weights in
 * row-major order; zero each weight tentatively and keep it zeroed only if the mean
 * cross-entropy on that label's test images stays no higher than the unpruned model's (the
 * baseline is fixed for the whole pass). ECS = the fraction of weights left non-zero. Only
 * weights count, not biases; a weight that is already zero counts as pruned (zeroing it cannot
 * change the loss, so the rule would prune it anyway).
 *
 * <p><b>What is compared.</b> The losses are computed in Cleave's circuit arithmetic
 * (native/include/cleave_circuits.h): every product w * h is rounded to a grid 2^-S (S about
 * 30, chosen from the model so nothing can overflow) and the sums are exact integer sums, so
 * the loss is a deterministic function of the weights, whatever order the sums are taken in.
 * Each image's cross-entropy is computed in double from those logits and rounded to 2^-32; a
 * trial is kept iff the sum over the label's images is {@code <=} the unpruned sum, compared
 * as 64-bit integers, without tolerance (the same as comparing means, since the image count is
 * fixed). The arithmetic's logits differ from a float32 forward pass by rounding only (about
 * 1e-7 relative), so it is the same model.
 *
 * <p><b>Methods.</b> {@code naive} evaluates the whole network on the label's images once per
 * weight; {@code fast} (the default) caches every image's pre-activations, updates only what a
 * trial changes (one output unit of the pruned layer, then only the images, units and weights
 * the change reaches above it) and commits a kept trial's changes into the cache. Both make
 * bit-identical decisions (the tests check identical masks); the fast path runs in native code,
 * labels in parallel on {@code threads} threads.
 *
 * <p><b>Approximations.</b> {@code images_per_label} (use the first N images of each label)
 * and {@code layers} (search only those layers; the others keep every weight and do not count)
 * make the search cheaper; a result that used either says so in
 * {@link EcsResult#approximation()}. Since the search runs last layer first, leaving out only
 * the first layers (for example {@code layers = 1..4} of the F21 MLP, whose first layer holds
 * half the weights and takes most of the time) still finds exactly the full search's masks on
 * the layers it searches; only the ECS denominator changes.
 *
 * <p><b>Cost.</b> On a trained F21 MLP (Fashion-MNIST, 5 epochs) the exact fast search of all
 * 10 labels on their 1000 test images each took 571 CPU-seconds (with threads = 2, about 5
 * minutes of wall time on two free cores); the naive search would need about 0.1 s per weight
 * per label there, some 12 hours per label.
 *
 * <p>Progress goes to the listener as task {@value #TASK}, counted in weights visited over all
 * labels, after every row; a listener cancels by throwing
 * {@link ProgressListener.CancelledException}.
 */
public final class EffectiveCircuitSize {
    /** The progress task name. */
    public static final String TASK = "effective circuit size";

    /**
     * How to run the search.
     *
     * @param labels         classes to search, or null for every class; never empty
     * @param imagesPerLabel use the first N test images of each label (0 = all of them)
     * @param layers         layer indices to search, or null for every layer; never empty
     * @param method         {@value #FAST} or {@value #NAIVE}
     * @param threads        labels searched in parallel (each on one thread)
     */
    public record Options(
            @JsonProperty("labels") int[] labels,
            @JsonProperty("images_per_label") int imagesPerLabel,
            @JsonProperty("layers") int[] layers,
            @JsonProperty("method") String method,
            @JsonProperty("threads") int threads) {
        public static final String FAST = "fast";
        public static final String NAIVE = "naive";

        public Options {
            labels = checkedSet(labels, "labels", "label");
            layers = checkedSet(layers, "layers", "layer");
            if (imagesPerLabel < 0) {
                throw new InvalidInputException("images per label must be >= 0 (0 = all), got " + imagesPerLabel);
            }
            if (!FAST.equals(method) && !NAIVE.equals(method)) {
                throw new InvalidInputException("circuit search method must be " + FAST + " or " + NAIVE + ", got " + method);
            }
            if (threads < 1) {
                throw new InvalidInputException("threads must be >= 1, got " + threads);
            }
        }

        /** Every label, every image, every layer, the fast method, one thread: the exact search. */
        public static Options defaults() {
            return new Options(null, 0, null, FAST, 1);
        }

        @Override
        public int[] labels() {
            return labels == null ? null : labels.clone();
        }

        @Override
        public int[] layers() {
            return layers == null ? null : layers.clone();
        }

        private static int[] checkedSet(int[] values, String plural, String singular) {
            if (values == null) {
                return null;
            }
            if (values.length == 0) {
                throw new InvalidInputException("the " + plural + " to search must not be an empty set (null means all)");
            }
            for (int i = 0; i < values.length; i++) {
                if (values[i] < 0) {
                    throw new InvalidInputException(singular + " " + values[i] + " is negative");
                }
                for (int k = 0; k < i; k++) {
                    if (values[k] == values[i]) {
                        throw new InvalidInputException(singular + " " + values[i] + " is listed twice");
                    }
                }
            }
            return values.clone();
        }
    }

    private EffectiveCircuitSize() {}

    /**
     * Searches the circuit of each label of {@code options} on the images of {@code test}
     * (usually the test split). The model is not modified.
     */
    public static EcsResult run(Mlp model, Dataset test, Options options, ProgressListener progress) {
        Evaluation.requireCompatible(model, test);
        return search(model, test.name(), test.images(), test.labels(), null, options, progress);
    }

    /**
     * The search on inputs that need not be images: {@code inputs} holds one row of
     * {@code model.inputs()} values per entry of {@code inputLabels} (a CNN's conv features, for
     * example). {@code inputBound} bounds |input j| for every row (null: every input is in
     * [0, 1], as pixels are); it sets the circuit arithmetic's grid, so it must hold.
     */
    static EcsResult search(Mlp model, String dataset, float[] inputs, int[] inputLabels, double[] inputBound,
            Options options, ProgressListener progress) {
        long start = System.nanoTime();
        int[] labels = options.labels() == null ? IntStream.range(0, model.outputs()).toArray() : options.labels();
        int[] layers = options.layers() == null ? IntStream.range(0, model.layers()).toArray() : options.layers();
        Arrays.sort(layers);
        for (int label : labels) {
            if (label >= model.outputs()) {
                throw new InvalidInputException("label " + label + " is outside the model's classes 0.." + (model.outputs() - 1));
            }
        }
        for (int layer : layers) {
            if (layer >= model.layers()) {
                throw new InvalidInputException("layer " + layer + " is outside the model's layers 0.." + (model.layers() - 1));
            }
        }
        int[] available = new int[model.outputs()];
        for (int y : inputLabels) {
            if (y >= 0 && y < available.length) {
                available[y]++;
            }
        }
        boolean truncated = false;
        List<float[]> images = new ArrayList<>();
        for (int label : labels) {
            if (available[label] == 0) {
                throw new InvalidInputException("label " + label + " has no images in " + dataset + ": its circuit is undefined");
            }
            int count = options.imagesPerLabel() == 0 ? available[label] : Math.min(options.imagesPerLabel(), available[label]);
            if (count > CircuitArithmetic.MAX_IMAGES) {
                throw new InvalidInputException("label " + label + " has " + count + " images in " + dataset
                        + "; the search takes at most " + CircuitArithmetic.MAX_IMAGES + " per label: set images per label");
            }
            truncated |= count < available[label];
            images.add(rowsOf(inputs, inputLabels, model.inputs(), label, count));
        }
        String approximation = approximation(truncated ? options.imagesPerLabel() : 0,
                layers.length < model.layers() ? layers : null);

        try (CircuitArithmetic net = new CircuitArithmetic(model, inputBound)) {
            long searched = 0;
            for (int layer : layers) {
                searched += net.weightOffsets[layer + 1] - net.weightOffsets[layer];
            }
            Reporter reporter = new Reporter(progress, searched * labels.length);
            List<LabelCircuit> circuits = inParallel(options.threads(), labels.length,
                    k -> search(net, layers, labels[k], images.get(k), options.method(), reporter), reporter);
            List<BitSet> masks = circuits.stream().map(LabelCircuit::keptMask).collect(Collectors.toList());
            return new EcsResult(options, dataset, layers, searched, net.scaleBits, approximation, circuits,
                    Jaccard.matrix(masks), (System.nanoTime() - start) / 1e9);
        }
    }

    /** Null for the exact search, else what was left out. */
    static String approximation(int imagesPerLabel, int[] layerSubset) {
        List<String> parts = new ArrayList<>();
        if (imagesPerLabel > 0) {
            parts.add("first " + imagesPerLabel + " images per label");
        }
        if (layerSubset != null) {
            parts.add("layers " + Arrays.stream(layerSubset).mapToObj(String::valueOf).collect(Collectors.joining(", "))
                    + " only");
        }
        return parts.isEmpty() ? null : String.join("; ", parts);
    }

    /** The first {@code count} rows (of {@code f} values) of {@code rows} whose label is {@code label}. */
    static float[] rowsOf(float[] rows, int[] rowLabels, int f, int label, int count) {
        float[] out = new float[count * f];
        int taken = 0;
        for (int n = 0; n < rowLabels.length && taken < count; n++) {
            if (rowLabels[n] == label) {
                System.arraycopy(rows, n * f, out, taken * f, f);
                taken++;
            }
        }
        return out;
    }

    /** The searched weights after a search of one label, and its loss totals (units of 2^-32). */
    private record Outcome(float[] weights, long baseline, long total) {}

    private static LabelCircuit search(CircuitArithmetic net, int[] layers, int label, float[] images, String method,
            Reporter reporter) {
        int count = images.length / net.widths[0];
        Outcome o;
        try (FloatPointer imagePointer = new FloatPointer(images)) {
            o = Options.NAIVE.equals(method) ? naive(net, layers, label, imagePointer, count, reporter)
                    : fast(net, layers, label, imagePointer, count, reporter);
        }
        BitSet mask = new BitSet();
        long[] keptPerLayer = new long[layers.length];
        int bit = 0;
        for (int k = 0; k < layers.length; k++) {
            for (long p = net.weightOffsets[layers[k]]; p < net.weightOffsets[layers[k] + 1]; p++, bit++) {
                if (o.weights[(int) p] != 0f) {
                    mask.set(bit);
                    keptPerLayer[k]++;
                }
            }
        }
        long kept = mask.cardinality();
        return new LabelCircuit(label, count, bit == 0 ? 0 : (double) kept / bit, kept, keptPerLayer,
                o.baseline * CircuitArithmetic.LOSS_UNIT / count, o.total * CircuitArithmetic.LOSS_UNIT / count,
                mask.toByteArray());
    }

    /** The reference: one whole-network evaluation per weight. */
    private static Outcome naive(CircuitArithmetic net, int[] layers, int label, FloatPointer images, int count,
            Reporter reporter) {
        try (FloatPointer w = net.copyOfWeights()) {
            long baseline = net.lossTotal(w, images, count, label);
            long current = baseline;
            for (int k = layers.length - 1; k >= 0; k--) {
                int l = layers[k], in = net.widths[l], out = net.widths[l + 1];
                for (int i = 0; i < out; i++) {
                    for (int j = 0; j < in; j++) {
                        long at = net.weightOffsets[l] + (long) i * in + j;
                        float old = w.get(at);
                        w.put(at, 0f);
                        long total = net.lossTotal(w, images, count, label);
                        if (total <= baseline) {
                            current = total;
                        } else {
                            w.put(at, old);
                        }
                    }
                    reporter.advance(in);
                }
            }
            float[] out = new float[(int) net.weightOffsets[net.layers()]];
            w.get(out);
            return new Outcome(out, baseline, current);
        }
    }

    /** Incremental updates of cached activations, in native code (cleave_circuit_prune). */
    private static Outcome fast(CircuitArithmetic net, int[] layers, int label, FloatPointer images, int count,
            Reporter reporter) {
        Pointer state = net.newState(images, count, label);
        try (LongPointer trials = new LongPointer(1); LongPointer totals = new LongPointer(2);
                FloatPointer w = new FloatPointer(net.weightOffsets[net.layers()])) {
            trials.put(0L);
            for (int k = layers.length - 1; k >= 0; k--) {
                int l = layers[k];
                for (int i = 0; i < net.widths[l + 1]; i++) {
                    CpuKernels.check(CircuitsKernels.cleave_circuit_prune(state, l, i, i + 1, trials));
                    reporter.advance(net.widths[l]);
                }
            }
            CpuKernels.check(CircuitsKernels.cleave_circuit_state(state, w, totals));
            // Self-check, one forward pass: the incrementally kept total is the circuit's loss.
            long recomputed = net.lossTotal(w, images, count, label);
            if (recomputed != totals.get(1)) {
                throw new IllegalStateException("circuit_prune's loss total " + totals.get(1) + " for label " + label
                        + " differs from the recomputed " + recomputed + ": a bug in native/src/circuits.cpp");
            }
            float[] out = new float[(int) net.weightOffsets[net.layers()]];
            w.get(out);
            return new Outcome(out, totals.get(0), totals.get(1));
        } finally {
            CircuitsKernels.cleave_circuit_free(state);
        }
    }

    /** Sums the weights visited by every label's search and reports them; stops all on cancel. */
    static final class Reporter {
        private final ProgressListener listener;
        private final long total;
        private long done;
        private volatile boolean stopped;

        Reporter(ProgressListener listener, long total) {
            this.listener = listener;
            this.total = total;
        }

        void advance(long weights) {
            if (stopped) {
                throw new ProgressListener.CancelledException("circuit search stopped");
            }
            synchronized (this) {
                done += weights;
                listener.progress(TASK, done, total);
            }
        }

        void stop() {
            stopped = true;
        }
    }

    interface LabelTask {
        LabelCircuit run(int k);
    }

    /** Runs tasks 0..n-1 on up to {@code threads} threads; the first failure stops the others. */
    static List<LabelCircuit> inParallel(int threads, int n, LabelTask task, Reporter reporter) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, n), r -> {
            Thread t = new Thread(r, "cleave-circuits");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<LabelCircuit>> futures = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                int label = k;
                futures.add(pool.submit(() -> task.run(label)));
            }
            List<LabelCircuit> out = new ArrayList<>();
            for (Future<LabelCircuit> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (ExecutionException e) {
            reporter.stop();
            pool.shutdownNow();
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            reporter.stop();
            pool.shutdownNow();
            Thread.currentThread().interrupt();
            throw new ProgressListener.CancelledException("circuit search interrupted");
        } finally {
            pool.shutdown();
            boolean done = false;
            while (!done) { // the workers free native memory: wait for them
                try {
                    done = pool.awaitTermination(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    reporter.stop();
                    Thread.currentThread().interrupt();
                    done = true;
                }
            }
        }
    }
}
