package dev.cleave.pipeline;

import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.data.DatasetSplit;
import dev.cleave.modular.NetworkLayers;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.ModularOptions;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The demo's sequence ({@code cleave demo}): on Fashion-MNIST, F21's MLP trained plainly
 * ("baseline") and with the enmeshment loss ("modular"), same seed and epochs; both clustered
 * with the shuffle test (k = 12); the baseline's hidden layers co-clustered (k = 4) for
 * comparison; cluster ablation and effective circuit sizes of both (the baseline's under those
 * co-clusters). Each run folder gets config.json, metrics.jsonl, model.safetensors,
 * {@value Results#CLUSTER_FILE}, {@value Results#CIRCUITS_FILE} (and the baseline {@value Results#COCLUSTER_FILE}),
 * written by {@link Results}; {@code dev.cleave.report.Report} renders the folders.
 */
public final class Demo {
    /** The run folders' names, in the order they run. */
    public static final List<String> RUNS = List.of("baseline", "modular");
    /** k of the clustering (F21's). */
    public static final int CLUSTER_K = ClusterOptions.DEFAULT_K;

    private Demo() {}

    /**
     * What the demo runs.
     *
     * @param out       the folder the run folders go in
     * @param epochs    epochs per run
     * @param shuffles  shuffle-test shuffles
     * @param ecsImages test images per label for the ECS search (0 = all)
     * @param dataDir   the folder Fashion-MNIST was read from, when one was given (recorded in
     *                  the configs and commands); null otherwise
     * @param seed      the one seed
     * @param device    where everything runs
     * @param arch      null for F21's MLP; else a network (--arch), trained with batch 64 as G24
     *                  and F21 did, the enmeshment loss on the layers its paper clustered
     *                  ({@link NetworkLayers#defaultSpec}: fc2 for g24-cnn)
     */
    public record Request(Path out, int epochs, int shuffles, int ecsImages, Path dataDir, long seed, Device device, String arch) {
        public Request {
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(device, "device");
        }

        /** The MLP demo. */
        public Request(Path out, int epochs, int shuffles, int ecsImages, Path dataDir, long seed, Device device) {
            this(out, epochs, shuffles, ecsImages, dataDir, seed, device, null);
        }
    }

    /** What the demo reports while it runs; the progress calls come from the steps' work. */
    public interface Listener extends ProgressListener {
        /** A step begins (e.g. "clustering baseline (k = 12, 50 layer shuffles)"). */
        void step(String what);

        /** An epoch of the run trained with {@code config} ended. */
        void epoch(TrainConfig config, EpochMetrics metrics);
    }

    /** One run folder of the demo and the records its steps returned. */
    public record Run(String name, Path dir, TrainConfig config, EpochMetrics last, ClusterRun cluster, CoclusterRun cocluster,
            CircuitsRun circuits) {}

    /** The two configurations the demo trains: baseline, then modular. */
    public static List<TrainConfig> configs(Request request) {
        TrainConfig plain = TrainConfig.defaults("fashion-mnist", request.epochs(), request.seed()).withDevice(request.device());
        if (request.dataDir() != null) {
            plain = new TrainConfig(plain.dataset(), request.dataDir().toString(), plain.layers(), plain.epochs(),
                    plain.batchSize(), plain.lr(), plain.dropout(), plain.l1(), plain.l2(), plain.seed(), plain.backend(),
                    plain.threads(), null, null, null, null);
        }
        if (request.arch() != null) {
            plain = new TrainConfig(plain.dataset(), plain.dataDir(), null, plain.epochs(), NETWORK_BATCH, plain.lr(), 0f, 0f, 0f,
                    plain.seed(), plain.backend(), plain.threads(), null, null, null, null, request.arch(), null, null);
        }
        int warmup = Math.min(ModularOptions.DEFAULT_WARMUP, Math.max(0, request.epochs() - 1));
        TrainConfig modular = plain.withModular(new ModularOptions(ModularOptions.DEFAULT_LAMBDA, ModularOptions.DEFAULT_K,
                modularLayers(plain), warmup, "cocluster"));
        return List.of(plain, modular);
    }

    /** The batch size of the network demo (G24's and F21's CNNs). */
    public static final int NETWORK_BATCH = 64;

    /** The layers the modular run's loss acts on: the MLP's hidden layers, or the network's paper default. */
    private static String modularLayers(TrainConfig plain) {
        Arch a = plain.network();
        if (a == null) {
            return "hidden";
        }
        return NetworkLayers.select(NetworkLayers.defaultSpec(a), a, "--arch").stream()
                .map(l -> String.valueOf(l.module())).collect(java.util.stream.Collectors.joining(","));
    }

    /**
     * Runs the sequence on {@code data} (Fashion-MNIST) with {@code ops} (opened from the
     * request's device) and returns the runs, baseline first.
     */
    public static List<Run> run(Request request, DatasetSplit data, Backend ops, Listener listener) throws IOException {
        Device device = request.device();
        List<TrainConfig> configs = configs(request);
        List<Path> dirs = new ArrayList<>();
        List<EpochMetrics> last = new ArrayList<>();
        for (int i = 0; i < configs.size(); i++) {
            TrainConfig config = configs.get(i);
            Path dir = request.out().resolve(RUNS.get(i));
            dirs.add(dir);
            listener.step("training " + RUNS.get(i) + ": " + config.commandLine() + " --out " + dir);
            boolean network = config.network() != null;
            try (RunDir run = RunDir.create(dir, config); Mlp model = network ? null : Trainer.initialModel(config, ops);
                    Network net = network ? Trainer.initialNetwork(config, ops) : null;
                    Trainer trainer = network ? new Trainer(config, ops, net) : new Trainer(config, ops, model)) {
                last.add(run.trainToEnd(trainer, config, data, listener, m -> listener.epoch(config, m)));
            }
        }
        ClusterOptions clusterOptions = ClusterOptions.defaults().withK(CLUSTER_K).withSeed(request.seed())
                .withThreads(device.threads()).withBackend(device);
        List<ClusterRun> clusterings = new ArrayList<>();
        for (Path dir : dirs) {
            listener.step("clustering " + dir.getFileName() + " (k = " + CLUSTER_K + ", " + request.shuffles() + " layer shuffles)");
            ClusterRun c = Pipeline.clusterModel(new ClusterModelRequest(dir.resolve(RunDir.MODEL), clusterOptions,
                    request.shuffles(), ShuffleMethod.LAYER, dir.resolve(Results.CLUSTER_FILE)), listener);
            Results.write(dir.resolve(Results.CLUSTER_FILE), c);
            clusterings.add(c);
        }
        Path baseline = dirs.get(0);
        String coLayers = configs.get(1).modular().layers();
        listener.step("co-clustering the baseline's layers " + coLayers + " (k = " + ModularOptions.DEFAULT_K + ") for comparison");
        CoclusterRun co = Pipeline.cocluster(new CoclusterRequest(baseline.resolve(RunDir.MODEL), ModularOptions.DEFAULT_K,
                coLayers, CoClusterVariant.JOINT, request.seed(), device, baseline.resolve(Results.COCLUSTER_FILE)));
        Results.write(baseline.resolve(Results.COCLUSTER_FILE), co);
        List<Run> runs = new ArrayList<>();
        for (int i = 0; i < dirs.size(); i++) {
            Path dir = dirs.get(i);
            listener.step("circuits of " + dir.getFileName() + " (cluster ablation; ECS on " + (request.ecsImages() == 0 ? "all"
                    : request.ecsImages()) + " test images per label)");
            Path clusters = dir == baseline ? baseline.resolve(Results.COCLUSTER_FILE) : null;
            CircuitsRun c = Pipeline.circuits(new CircuitsRequest(dir.resolve(RunDir.MODEL), clusters, ModularOptions.DEFAULT_K,
                    "fashion-mnist", request.dataDir(), new EffectiveCircuitSize.Options(null, request.ecsImages(), null,
                            EffectiveCircuitSize.Options.FAST, device.threads()), request.seed(), device,
                    dir.resolve(Results.CIRCUITS_FILE)), data.test(), ops, listener);
            Results.write(dir.resolve(Results.CIRCUITS_FILE), c);
            runs.add(new Run(RUNS.get(i), dir, configs.get(i), last.get(i), clusterings.get(i), dir == baseline ? co : null, c));
        }
        return List.copyOf(runs);
    }
}
