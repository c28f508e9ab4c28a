package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.nn.Mlp;
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
 * @param backend      java, cpu, cuda or auto
 * @param threads      threads for the backend
 * @param modular      enmeshment-loss training, or null
 * @param prune        magnitude-pruning fine-tuning after the epochs, or null
 * @param clusterableInit F21's clusterable initialisation, or null
 * @param spectral     F21's spectral regulariser, or null
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
        @JsonProperty("backend") String backend,
        @JsonProperty("threads") int threads,
        @JsonProperty("modular") ModularOptions modular,
        @JsonProperty("prune") PruneOptions prune,
        @JsonProperty("clusterable_init") ClusterableInit clusterableInit,
        @JsonProperty("spectral") SpectralOptions spectral) {

    public static final int DEFAULT_BATCH = 128;
    public static final float DEFAULT_LR = 1e-3f;

    public TrainConfig {
        if (dataset == null || dataset.isBlank()) {
            throw new InvalidInputException("--dataset must name a data set");
        }
        layers = layers == null ? Mlp.F21_WIDTHS.clone() : layers.clone();
        Mlp.validateWidths(layers);
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
        if (threads < 1 || threads > 1024) {
            throw new InvalidInputException("--threads must be in [1, 1024], got " + threads);
        }
        if (backend == null || backend.isBlank()) {
            throw new InvalidInputException("--backend must be one of java, cpu, cuda, auto");
        }
        if (modular != null) {
            modular.layerIndices(layers.length - 1); // validates the layer selection against the widths
            if (modular.warmupEpochs() >= epochs) {
                throw new InvalidInputException("--warmup-epochs (" + modular.warmupEpochs() + ") must be less than --epochs ("
                        + epochs + "), or the enmeshment loss never runs");
            }
        }
    }

    /** The {@code cleave train} command that reproduces this config (without --out). */
    public String commandLine() {
        StringBuilder sb = new StringBuilder("cleave train --dataset ").append(dataset);
        if (dataDir != null) {
            sb.append(" --data-dir ").append(dataDir);
        }
        if (!Arrays.equals(layers, Mlp.F21_WIDTHS)) {
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
        if (l2 > 0) {
            sb.append(" --l2 ").append(l2);
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

    /** Epochs including the pruning phase. */
    public int totalEpochs() {
        return epochs + (prune == null ? 0 : prune.epochs());
    }

    /** A config with F21's defaults for everything but the data set, epochs and seed. */
    public static TrainConfig defaults(String dataset, int epochs, long seed) {
        return new TrainConfig(dataset, null, Mlp.F21_WIDTHS, epochs, DEFAULT_BATCH, DEFAULT_LR, 0f, 0f, 0f, seed, "cpu",
                Math.max(1, Runtime.getRuntime().availableProcessors()), null, null, null, null);
    }

    public TrainConfig withEpochs(int newEpochs) {
        return new TrainConfig(dataset, dataDir, layers, newEpochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, prune, clusterableInit, spectral);
    }

    public TrainConfig withBackend(String newBackend, int newThreads) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, newBackend, newThreads,
                modular, prune, clusterableInit, spectral);
    }

    public TrainConfig withModular(ModularOptions m) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads, m,
                prune, clusterableInit, spectral);
    }

    public TrainConfig withPrune(PruneOptions p) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, p, clusterableInit, spectral);
    }

    public TrainConfig withClusterableInit(ClusterableInit c) {
        return new TrainConfig(dataset, dataDir, layers, epochs, batchSize, lr, dropout, l1, l2, seed, backend, threads,
                modular, prune, c, spectral);
    }

    @Override
    public int[] layers() {
        return layers.clone();
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
                + ", prune=" + prune + ", clusterableInit=" + clusterableInit + ", spectral=" + spectral + "]";
    }
}
