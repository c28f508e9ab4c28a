package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.data.Datasets;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.NetworkPass;
import dev.cleave.nn.Shape;
import dev.cleave.util.InvalidInputException;
import java.util.Arrays;

/**
 * Everything that determines a training run, validated on construction and written to
 * config.json and into the model file's metadata, so each result says exactly how it was made.
 * Same config and seed, same backend and threads: same weights.
 *
 * @param dataset      data set name (fashion-mnist, mnist, mnist-idx)
 * @param dataDir      folder searched first for the data, or null
 * @param layers       layer widths, input first (default F21's 784-256-256-256-256-10)
 * @param epochs       total epochs
 * @param batchSize    minibatch size (default 128)
 * @param lr           Adam learning rate (default 1e-3)
 * @param dropout      dropout probability after each hidden layer, in [0, 1)
 * @param l1           L1 penalty on weights: adds l1 * sum|w| to the loss
 * @param l2           L2 penalty on weights: adds l2 * sum w^2 to the loss
 * @param seed         the one seed (init, batch order, dropout)
 * @param backend      the kind of device the run trains on (java, cpu, cuda or cuda-emu: resolved,
 *                     never auto); the {@link Trainer} refuses ops on another kind
 * @param threads      threads of the device
 * @param modular      enmeshment-loss training, or null
 * @param prune        magnitude-pruning fine-tuning after the epochs, or null
 * @param clusterableInit F21's clusterable initialisation, or null
 * @param spectral     F21's spectral regulariser, or null
 * @param arch         the architecture as given to --arch (a preset or a layer list, see
 *                     {@link Arch}), or null for the MLP of {@code layers}; an arch that is an
 *                     MLP sets {@code layers} and trains on the MLP path
 * @param inputShape   one image's shape "CxHxW", or null for the data set's (known from its name)
 * @param l1Layers     the weight layers the L1 penalty acts on (--l1-layers): "first", "hidden" or
 *                     a comma list of weight-layer indices from 0 ({@link #layerIndices}); null
 *                     for every layer ("all", the default, written as no l1_layers field); given
 *                     only with l1 > 0. F21's code gave its first MLP layer L1 instead of L2 in
 *                     its L2 runs: l1 with l1Layers "first" and l2 with l2Layers "1,2,3,4" follows it
 * @param l2Layers     the weight layers the L2 penalty acts on (--l2-layers), as {@code l1Layers}
 *                     for l1: null for every layer; given only with l2 > 0
 */
public record TrainConfig(
        @JsonProperty("dataset") String dataset,
        @JsonProperty("data_dir") String dataDir,
        @JsonProperty("layers") int[] layers,
        @JsonProperty("epochs") int epochs,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("lr") float lr,
        @JsonProperty("dropout") float dropout,
        @JsonProperty("l1") float l1,
        @JsonProperty("l2") float l2,
        @JsonProperty("seed") long seed,
        @JsonProperty("backend") Device.Kind backend,
        @JsonProperty("threads") int threads,
        @JsonProperty("modular") ModularOptions modular,
        @JsonProperty("prune") PruneOptions prune,
        @JsonProperty("clusterable_init") ClusterableInit clusterableInit,
        @JsonProperty("spectral") SpectralOptions spectral,
        @JsonProperty("arch") String arch,
        @JsonProperty("input_shape") String inputShape,
        @JsonProperty("l1_layers") @JsonInclude(JsonInclude.Include.NON_NULL) String l1Layers,
        @JsonProperty("l2_layers") @JsonInclude(JsonInclude.Include.NON_NULL) String l2Layers) {

    public static final int DEFAULT_BATCH = 128;
    public static final float DEFAULT_LR = 1e-3f;

    /** A config of the MLP path (no --arch), the data set's own input shape. */
    public TrainConfig(String dataset, String dataDir, int[] layers, int epochs, int batchSize, float lr, float dropout, float l1,
            float l2, long seed, Device.Kind backend, int threads, ModularOptions modular, PruneOptions prune,
            ClusterableInit clusterableInit, SpectralOptions spectral) {
        this(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads, modular, prune,
                clusterableInit, spectral, null, null, null, null);
    }

    /** A config whose L1 penalty, if any, acts on every layer. */
    public TrainConfig(String dataset, String dataDir, int[] layers, int epochs, int batchSize, float lr, float dropout, float l1,
            float l2, long seed, Device.Kind backend, int threads, ModularOptions modular, PruneOptions prune,
            ClusterableInit clusterableInit, SpectralOptions spectral, String arch, String inputShape) {
        this(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads, modular, prune,
                clusterableInit, spectral, arch, inputShape, null, null);
    }

    /** A config whose L2 penalty, if any, acts on every layer. */
    public TrainConfig(String dataset, String dataDir, int[] layers, int epochs, int batchSize, float lr, float dropout, float l1,
            float l2, long seed, Device.Kind backend, int threads, ModularOptions modular, PruneOptions prune,
            ClusterableInit clusterableInit, SpectralOptions spectral, String arch, String inputShape, String l1Layers) {
        this(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads, modular, prune,
                clusterableInit, spectral, arch, inputShape, l1Layers, null);
    }

    @com.fasterxml.jackson.annotation.JsonCreator
    public TrainConfig {
        if (dataset == null || dataset.isBlank()) {
            throw new InvalidInputException("--dataset must name a data set");
        }
        Arch parsed = null;
        if (arch != null) {
            Shape input = inputShape != null ? Shape.parse(inputShape) : Datasets.inputShape(dataset);
            parsed = Arch.parse(arch, input);
            int[] widths = parsed.mlpWidths();
            if (widths != null) {
                if (layers != null && !Arrays.equals(layers, widths)) {
                    throw new InvalidInputException("give --arch or --layers, not both (--arch " + arch + " is the MLP "
                            + widthList(widths) + ")");
                }
                layers = widths;
                parsed = null;
            } else if (layers != null) {
                throw new InvalidInputException("give --arch or --layers, not both: --layers is for MLPs, --arch '" + arch
                        + "' is not one");
            }
        }
        if (parsed != null) {
            if (modular != null) {
                dev.cleave.modular.NetworkLayers.requireClustersFit(modular.networkLayers(parsed), modular.k(), "--modular-k");
            }
            if (spectral != null) {
                throw new InvalidInputException("the spectral regulariser trains MLPs only; --arch '" + arch + "' is not one");
            }
            if (dropout > 0f) {
                throw new InvalidInputException("--dropout adds dropout after every hidden layer of an MLP; for --arch '" + arch
                        + "' write dropout layers into the arch instead (dropout:P, e.g. the preset f21-cnn-dropout)");
            }
        } else {
            layers = layers == null ? Mlp.F21_WIDTHS.clone() : layers.clone();
            Mlp.validateWidths(layers);
            if (inputShape != null && Shape.parse(inputShape).size() != layers[0]) {
                throw new InvalidInputException("--layers starts at " + layers[0] + " but the input is " + inputShape);
            }
        }
        if (epochs < 1 || epochs > 100_000) {
            throw new InvalidInputException("--epochs must be in [1, 100000], got " + epochs);
        }
        if (batchSize < 1 || batchSize > 1 << 16) {
            throw new InvalidInputException("--batch-size must be in [1, 65536], got " + batchSize);
        }
        if (!(lr > 0f) || !Float.isFinite(lr)) {
            throw new InvalidInputException("--lr must be a positive number, got " + lr);
        }
        if (!(dropout >= 0f && dropout < 1f)) {
            throw new InvalidInputException("--dropout must be in [0, 1), got " + dropout);
        }
        if (!(l1 >= 0f) || !Float.isFinite(l1) || !(l2 >= 0f) || !Float.isFinite(l2)) {
            throw new InvalidInputException("--l1 and --l2 must be >= 0, got " + l1 + " and " + l2);
        }
        if (l1Layers != null) {
            l1Layers = l1Layers.trim();
            if (l1Layers.equals("all")) {
                l1Layers = null;
            } else if (!(l1 > 0f)) {
                throw new InvalidInputException("--l1-layers " + l1Layers + " chooses the layers the L1 penalty acts on, but --l1 "
                        + "is 0: give --l1 R as well, or leave --l1-layers out");
            }
        }
        if (l2Layers != null) {
            l2Layers = l2Layers.trim();
            if (l2Layers.equals("all")) {
                l2Layers = null;
            } else if (!(l2 > 0f)) {
                throw new InvalidInputException("--l2-layers " + l2Layers + " chooses the layers the L2 penalty acts on, but --l2 "
                        + "is 0: give --l2 R as well, or leave --l2-layers out");
            }
        }
        if (threads < 1 || threads > 1024) {
            throw new InvalidInputException("--threads must be in [1, 1024], got " + threads);
        }
        if (backend == null) {
            throw new InvalidInputException("backend must be the resolved device kind: java, cpu, cuda or cuda-emu");
        }
        if (layers != null) {
            checkMlp(layers, modular);
        }
        if (modular != null && modular.warmupEpochs() >= epochs) {
            throw new InvalidInputException("--warmup-epochs (" + modular.warmupEpochs() + ") must be less than --epochs ("
                    + epochs + "), or the enmeshment loss never runs");
        }
        if (l1Layers != null || l2Layers != null) {
            int weightLayers = layers != null ? layers.length - 1 : weightLayers(parsed);
            if (l1Layers != null) {
                layerIndices(l1Layers, weightLayers, "--l1-layers");
            }
            if (l2Layers != null) {
                layerIndices(l2Layers, weightLayers, "--l2-layers");
            }
        }
    }

    /**
     * The L1 penalty's rate on each of the model's {@code weightLayers} linear and conv weights,
     * in order: l1 on the layers {@link #l1Layers} chooses (all without a choice), 0 on the others.
     */
    public float[] l1PerLayer(int weightLayers) {
        return perLayer(l1, l1Layers, weightLayers, "--l1-layers");
    }

    /** As {@link #l1PerLayer} for the L2 penalty: l2 on the layers {@link #l2Layers} chooses. */
    public float[] l2PerLayer(int weightLayers) {
        return perLayer(l2, l2Layers, weightLayers, "--l2-layers");
    }

    private static float[] perLayer(float rate, String spec, int weightLayers, String option) {
        float[] rates = new float[weightLayers];
        if (spec == null) {
            Arrays.fill(rates, rate);
        } else {
            for (int l : layerIndices(spec, weightLayers, option)) {
                rates[l] = rate;
            }
        }
        return rates;
    }

    /** The weight-layer indices {@code spec} (first, hidden, all or a comma list) chooses among {@code weightLayers}. */
    static int[] layerIndices(String spec, int weightLayers, String option) {
        String s = spec.trim();
        if (s.equals("first")) {
            return new int[] {0};
        }
        if (!s.equals("all") && !s.equals("hidden") && !s.matches("[0-9 ,+-]+")) {
            throw new InvalidInputException(option + " must be all, first, hidden or a comma list of weight-layer indices "
                    + "like 0,1; got '" + s + "'");
        }
        return dev.cleave.modular.LayerSelection.indices(s, weightLayers, option).toArray();
    }

    /** How many linear and conv weights {@code arch} has. */
    private static int weightLayers(Arch arch) {
        int n = 0;
        for (int i = 0; i < arch.layers().size(); i++) {
            for (var p : arch.layers().get(i).params(arch.shape(i))) {
                n += p.role() == dev.cleave.nn.Layer.Role.WEIGHT ? 1 : 0;
            }
        }
        return n;
    }

    /** Validation of the MLP path (kept apart so the network path skips it). */
    private static void checkMlp(int[] layers, ModularOptions modular) {
        for (int l = 0; l + 1 < layers.length; l++) {
            long n = (long) layers[l] * layers[l + 1];
            if (n > MAX_TENSOR_ELEMENTS) {
                throw new InvalidInputException("--layers " + widthList(layers) + ": layer " + l + "'s weight matrix would hold "
                        + layers[l + 1] + " x " + layers[l] + " = " + n + " values (" + bytes(4 * n) + "), more than the "
                        + MAX_TENSOR_ELEMENTS + " one tensor can hold: use narrower layers");
            }
        }
        if (modular != null) {
            dev.cleave.modular.LayerSelection.requireClustersFit(modular.layerIndices(layers.length - 1), layers, modular.k(),
                    "--modular-k");
        }
    }


    /** The {@code cleave train} command that reproduces this config (without --out). */
    public String commandLine() {
        StringBuilder sb = new StringBuilder("cleave train --dataset ").append(dataset);
        if (dataDir != null) {
            sb.append(" --data-dir ").append(dataDir);
        }
        if (arch != null) {
            sb.append(" --arch ").append(arch.contains(",") ? "'" + arch + "'" : arch);
        } else if (!Arrays.equals(layers, Mlp.F21_WIDTHS)) {
            sb.append(" --layers ").append(Arrays.toString(layers).replaceAll("[\\[\\] ]", ""));
        }
        sb.append(" --epochs ").append(epochs);
        if (batchSize != DEFAULT_BATCH) {
            sb.append(" --batch-size ").append(batchSize);
        }
        if (lr != DEFAULT_LR) {
            sb.append(" --lr ").append(lr);
        }
        if (dropout > 0) {
            sb.append(" --dropout ").append(dropout);
        }
        if (l1 > 0) {
            sb.append(" --l1 ").append(l1);
        }
        if (l1Layers != null) {
            sb.append(" --l1-layers ").append(l1Layers);
        }
        if (l2 > 0) {
            sb.append(" --l2 ").append(l2);
        }
        if (l2Layers != null) {
            sb.append(" --l2-layers ").append(l2Layers);
        }
        if (modular != null) {
            sb.append(" --modular-lambda ").append(modular.lambda()).append(" --modular-k ").append(modular.k())
                    .append(" --modular-layers ").append(modular.layers()).append(" --warmup-epochs ")
                    .append(modular.warmupEpochs()).append(" --assign ").append(modular.assign());
        }
        if (prune != null) {
            sb.append(" --prune-epochs ").append(prune.epochs());
        }
        if (clusterableInit != null) {
            sb.append(" --clusterable-init");
        }
        if (spectral != null) {
            sb.append(" --spectral-lambda ").append(spectral.lambda()).append(" --spectral-k ").append(spectral.k());
            if (spectral.rescale() != SpectralOptions.Rescale.CANONICAL) {
                sb.append(" --spectral-rescale ").append(spectral.rescale());
            }
        }
        return sb.append(" --seed ").append(seed).append(" --backend ").append(backend).append(" --threads ").append(threads)
                .toString();
    }

    /** The most elements one tensor (a Java float array) may hold. */
    static final long MAX_TENSOR_ELEMENTS = Integer.MAX_VALUE - 8;

    /** Java heap and native memory a run of this config needs, in bytes (an estimate; see {@link #requireFitsMemory()}). */
    record MemoryNeed(long heapBytes, long nativeBytes) {}

    /**
     * What training allocates, from the parameter count P and the activations: native (off-heap)
     * memory for the model, its gradients and Adam's two moments (4 P floats), the exported copy
     * written to the model file (P floats) and the training pass's buffers for one batch (which
     * also evaluates the test set after each epoch: {@link NetworkPass#valuesPerImage}, or for an
     * MLP each layer's activations, their gradients and dropout masks); on the Java heap, the
     * checkpoint's copies of parameters and moments, once as arrays and once as file buffers
     * (6 P floats). With the cuda backend the model, gradients and moments live on the GPU, and
     * the host holds the initial model and the exported copy (2 P floats). The data set itself
     * is not counted.
     */
    MemoryNeed memoryNeeded() {
        long params = 0;
        long perImage = 0;
        if (layers == null) {
            Arch a = network();
            params = a.parameterCount();
            perImage = NetworkPass.valuesPerImage(a);
        } else {
            for (int l = 0; l + 1 < layers.length; l++) {
                params += (long) layers[l] * layers[l + 1] + layers[l + 1];
            }
            for (int w : layers) {
                perImage += 3L * w;
            }
        }
        long activations = 4L * batchSize * perImage;
        boolean gpu = "cuda".equals(backend);
        long nativeBytes = gpu ? 2 * 4 * params : 5 * 4 * params + activations;
        return new MemoryNeed(6 * 4 * params, nativeBytes);
    }

    /**
     * Checks, before anything is allocated, that this run fits the JVM's heap limit (-Xmx) and
     * the native memory JavaCPP may use (its maxBytes limit and the physical memory available).
     *
     * @throws InvalidInputException giving the bytes needed and available and how to fix it
     */
    public void requireFitsMemory() {
        Runtime rt = Runtime.getRuntime();
        long heap = rt.maxMemory() == Long.MAX_VALUE ? Long.MAX_VALUE : rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        long nativeLimit = Long.MAX_VALUE;
        long maxBytes = org.bytedeco.javacpp.Pointer.maxBytes();
        if (maxBytes > 0) {
            nativeLimit = maxBytes - org.bytedeco.javacpp.Pointer.totalBytes();
        }
        long physical = org.bytedeco.javacpp.Pointer.availablePhysicalBytes();
        if (physical > 0) {
            nativeLimit = Math.min(nativeLimit, physical);
        }
        requireFitsMemory(heap, nativeLimit);
    }

    /** {@link #requireFitsMemory()} against the given heap and native bytes available. */
    void requireFitsMemory(long heapAvailable, long nativeAvailable) {
        MemoryNeed need = memoryNeeded();
        if (need.heapBytes() <= heapAvailable && need.nativeBytes() <= nativeAvailable) {
            return;
        }
        long suggestedXmx = (Math.max(need.heapBytes(), need.nativeBytes()) * 5 / 4 >> 30) + 1;
        throw new InvalidInputException((layers == null ? "--arch " + arch : "--layers " + widthList(layers)) + ": training needs about " + bytes(need.heapBytes())
                + " of Java heap and " + bytes(need.nativeBytes()) + " of native memory, but " + bytes(heapAvailable)
                + " of heap and " + bytes(nativeAvailable) + " of native memory are available: use "
                + (layers == null ? "a smaller network" : "narrower --layers") + ", or give more memory (JAVA_OPTS=\"-Xmx" + suggestedXmx + "g\"; native memory follows -Xmx unless "
                + "-Dorg.bytedeco.javacpp.maxBytes is set) on a machine that has it");
    }

    private static String bytes(long n) {
        return n == Long.MAX_VALUE ? "unlimited" : n >= 1L << 30 ? String.format("%.1f GiB", n / (double) (1L << 30))
                : String.format("%.1f MiB", n / (double) (1L << 20));
    }

    private static String widthList(int[] widths) {
        return Arrays.toString(widths).replaceAll("[\\[\\] ]", "");
    }

    /** Epochs including the pruning phase. */
    public int totalEpochs() {
        return epochs + (prune == null ? 0 : prune.epochs());
    }

    /** A config with F21's defaults for everything but the data set, epochs and seed. */
    public static TrainConfig defaults(String dataset, int epochs, long seed) {
        return new TrainConfig(dataset, null, Mlp.F21_WIDTHS, epochs, DEFAULT_BATCH, DEFAULT_LR, 0f, 0f, 0f, seed, Device.Kind.CPU,
                Math.max(1, Runtime.getRuntime().availableProcessors()), null, null, null, null);
    }

    public TrainConfig withEpochs(int newEpochs) {
        return new TrainConfig(dataset, dataDir, layers, newEpochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, prune, clusterableInit, spectral, arch, inputShape, l1Layers, l2Layers);
    }

    /** This config on {@code device}: its kind and threads. */
    public TrainConfig withDevice(Device device) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, device.kind(),
                device.threads(), modular, prune, clusterableInit, spectral, arch, inputShape, l1Layers, l2Layers);
    }

    /**
     * This config on images of {@code shape} (the data as read, where its files hold another size
     * than the data set's usual one); the arch is checked against it.
     */
    public TrainConfig withInputShape(Shape shape) {
        return new TrainConfig(dataset, dataDir, layers == null || arch != null ? null : layers, epochs, batchSize, lr, dropout,
                l1, l2, seed, backend, threads, modular, prune, clusterableInit, spectral, arch,
                shape.channels() + "x" + shape.height() + "x" + shape.width(), l1Layers, l2Layers);
    }

    /** This config with its L1 penalty on the layers {@code spec} chooses (null or "all": every layer). */
    public TrainConfig withL1Layers(String spec) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, prune, clusterableInit, spectral, arch, inputShape, spec, l2Layers);
    }

    /** This config with its L2 penalty on the layers {@code spec} chooses (null or "all": every layer). */
    public TrainConfig withL2Layers(String spec) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, prune, clusterableInit, spectral, arch, inputShape, l1Layers, spec);
    }

    public TrainConfig withModular(ModularOptions m) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads, m,
                prune, clusterableInit, spectral, arch, inputShape, l1Layers, l2Layers);
    }

    public TrainConfig withPrune(PruneOptions p) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, p, clusterableInit, spectral, arch, inputShape, l1Layers, l2Layers);
    }

    public TrainConfig withClusterableInit(ClusterableInit c) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, prune, c, spectral, arch, inputShape, l1Layers, l2Layers);
    }

    /** The layer widths of the MLP path; null for a network (see {@link #network()}). */
    @Override
    public int[] layers() {
        return layers == null ? null : layers.clone();
    }

    /** The input shape of one image: the given one, else the data set's. */
    public Shape input() {
        return inputShape != null ? Shape.parse(inputShape) : Datasets.inputShape(dataset);
    }

    /** The architecture of a run off the MLP path (parsed anew), or null for an MLP. */
    public Arch network() {
        return layers != null ? null : Arch.parse(arch, input());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainConfig c && c.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "TrainConfig[dataset=" + dataset + ", dataDir=" + dataDir + ", layers=" + Arrays.toString(layers)
                + ", epochs=" + epochs + ", batchSize=" + batchSize + ", lr=" + lr + ", dropout=" + dropout + ", l1=" + l1
                + ", l2=" + l2 + ", seed=" + seed + ", backend=" + backend + ", threads=" + threads + ", modular=" + modular
                + ", prune=" + prune + ", clusterableInit=" + clusterableInit + ", spectral=" + spectral + ", arch=" + arch
                + ", inputShape=" + inputShape + (l1Layers == null ? "" : ", l1Layers=" + l1Layers)
                + (l2Layers == null ? "" : ", l2Layers=" + l2Layers) + "]";
    }
}
