package dev.cleave.cli;

import dev.cleave.data.DatasetSplit;
import dev.cleave.io.Json;
import dev.cleave.modular.NetworkLayers;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.train.ClusterableInit;
import dev.cleave.train.ModularOptions;
import dev.cleave.train.PruneOptions;
import dev.cleave.train.SpectralOptions;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.InvalidInputException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/** {@code cleave train}: train a model (an MLP or any layer sequence) on a data set, writing model, metrics and checkpoints to --out. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a model (default: F21's MLP 784-256-256-256-256-10; --arch for CNNs) with Adam on a data set.")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME",
            description = "fashion-mnist | mnist | mnist-idx | cifar10 (cifar10 needs --data-dir; default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for the data set's files")
    Path dataDir;

    @Option(names = "--no-install", description = "never install a missing data set (default: install it when running as root)")
    boolean noInstall;

    @Option(names = "--layers", split = ",", paramLabel = "W", description = "MLP layer widths, input first (default: 784,256,256,256,256,10)")
    int[] layers;

    @Option(names = "--arch", paramLabel = "ARCH", description = "the model: a preset (" + ArchHelp.PRESETS + ") or a layer "
            + "list, e.g. conv:16,relu,maxpool,flatten,linear:10 (tokens: conv:C[:kK][:sS][:pP][:nobias], linear:N[:nobias], "
            + "maxpool[:K][:sS], bn, relu, dropout:P, flatten; see the README). Default: f21-mlp")
    String arch;

    @Option(names = "--epochs", defaultValue = "20", paramLabel = "N", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", paramLabel = "B", description = "minibatch size (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", paramLabel = "LR", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    float lr;

    @Option(names = "--dropout", defaultValue = "0", paramLabel = "P", description = "dropout after each hidden layer, in [0, 1) (default: ${DEFAULT-VALUE})")
    float dropout;

    @Option(names = "--l1", defaultValue = "0", paramLabel = "R", description = "L1 penalty: adds R * sum|w| to the loss (default: ${DEFAULT-VALUE})")
    float l1;

    @Option(names = "--l1-layers", paramLabel = "all|first|hidden|LIST", description = "weight layers the L1 penalty acts on: all "
            + "(the default), first, hidden, or weight-layer indices from 0 like 0,1 (needs --l1; "
            + "F21's L2 runs: --l1 5e-5 --l1-layers first --l2 5e-5 --l2-layers 1,2,3,4)")
    String l1Layers;

    @Option(names = "--l2", defaultValue = "0", paramLabel = "R", description = "L2 penalty: adds R * sum w^2 to the loss (default: ${DEFAULT-VALUE})")
    float l2;

    @Option(names = "--l2-layers", paramLabel = "all|first|hidden|LIST", description = "weight layers the L2 penalty acts on, "
            + "as --l1-layers for --l1 (needs --l2; default all)")
    String l2Layers;

    @Option(names = "--modular", description = "train with the enmeshment loss (G24 defaults: lambda 20, k 4, hidden layers "
            + "(g24-cnn: fc2), 5 warm-up epochs)")
    boolean modular;

    @Option(names = "--modular-lambda", paramLabel = "L", description = "enmeshment loss weight (implies --modular; default 20)")
    Float modularLambda;

    @Option(names = "--modular-k", paramLabel = "K", description = "clusters per layer (implies --modular; default 4)")
    Integer modularK;

    @Option(names = "--modular-layers", paramLabel = "hidden|all|LIST", description = "layers the loss acts on (implies "
            + "--modular): MLP hidden, all or indices 1,2; --arch networks also conv, linear, names fc2,conv2 or module "
            + "indices (of layers.N.weight). Default hidden; g24-cnn fc2, g25-cnn fc1,fc2,fc3")
    String modularLayers;

    @Option(names = "--warmup-epochs", paramLabel = "N", description = "plain epochs before clusters are assigned (implies --modular; default 5)")
    Integer warmupEpochs;

    @Option(names = "--assign", paramLabel = "METHOD", description = "balanced | cocluster | cocluster-compat (implies --modular; default cocluster)")
    String assign;

    @Option(names = "--prune-epochs", paramLabel = "N", description = "after --epochs, N epochs of magnitude pruning from 50%% to 90%% sparsity (F21)")
    Integer pruneEpochs;

    @Option(names = "--clusterable-init", description = "F21's clusterable initialisation (10 modules, down 0.6)")
    boolean clusterableInit;

    @Option(names = "--spectral-lambda", paramLabel = "L", description = "F21's spectral regulariser weight (0.1 in F21); off by default")
    Float spectralLambda;

    @Option(names = "--spectral-k", paramLabel = "K", description = "eigenvalues 2..K+1 in the spectral regulariser (default 3)")
    Integer spectralK;

    @Option(names = "--spectral-rescale", paramLabel = "MODE", description = "how the regulariser is kept from cheating by "
            + "rescaling hidden units: canonical (default: it sees the network's canonical form, F21's sqrt(2) rescaling, and "
            + "its gradient goes through it), compensate (F21's code: the network is rescaled before every batch; diverges "
            + "with Adam), none")
    String spectralRescale;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/<dataset>-<date-time>)")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR from its last finished epoch; "
            + "only --epochs, --backend and --threads may be given with it")
    Path resume;

    @Override
    public Integer call() {
        try {
            return train();
        } finally {
            if (run != null) {
                run.close(); // releases the run folder's lock
            }
        }
    }

    private RunDir run;

    private Integer train() {
        PrintWriter outw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TrainConfig config;
        Device device;
        if (resume != null) {
            rejectWithResume("--dataset", "--data-dir", "--layers", "--arch", "--batch-size", "--lr", "--dropout", "--l1", "--l1-layers", "--l2", "--l2-layers", "--out", "--seed",
                    "--modular", "--modular-lambda", "--modular-k", "--modular-layers", "--warmup-epochs", "--assign",
                    "--prune-epochs", "--clusterable-init", "--spectral-lambda", "--spectral-k", "--spectral-rescale");
            run = RunDir.open(resume);
            config = run.readConfig();
            ParseResult pr = spec.commandLine().getParseResult();
            if (pr.hasMatchedOption("--epochs")) {
                config = config.withEpochs(epochs);
            }
            device = common.device(pr.hasMatchedOption("--backend") ? common.backend : config.backend().toString(),
                    pr.hasMatchedOption("--threads") ? common.threads() : config.threads(), err);
            config = config.withDevice(device);
        } else {
            if (spectralRescale != null && spectralLambda == null && spectralK == null) {
                throw new InvalidInputException("--spectral-rescale only applies to the spectral regulariser: give --spectral-lambda "
                        + "(and --spectral-k) too, or drop it");
            }
            device = common.device(err);
            config = new TrainConfig(dataset, dataDir == null ? null : dataDir.toString(), layers, epochs, batchSize, lr, dropout,
                    l1, l2, common.seed, device.kind(), device.threads(), modularOptions(),
                    pruneEpochs == null ? null : PruneOptions.f21(pruneEpochs),
                    clusterableInit ? (isNetwork() ? ClusterableInit.f21Cnn() : ClusterableInit.f21()) : null,
                    spectralLambda == null && spectralK == null ? null
                            : new SpectralOptions(spectralLambda == null ? 0.1f : spectralLambda, spectralK == null ? 3 : spectralK,
                                    spectralRescale == null ? SpectralOptions.Rescale.CANONICAL
                                            : SpectralOptions.Rescale.parse(spectralRescale)), arch, null, l1Layers, l2Layers);
        }
        config.requireFitsMemory();
        try (Backend backend = device.open()) {
            common.printHeader(outw, "train", device, config.seed());
            // The data first: a run folder is created only once the run can start.
            DatasetSplit data = DatasetInstaller.load(config.dataset(), config.dataDir() == null ? null : Path.of(config.dataDir()),
                    !noInstall, msg -> {
                        err.println(msg);
                        err.flush();
                    });
            if (resume == null && config.arch() != null && !data.train().shape().equals(config.input())) {
                config = config.withInputShape(data.train().shape()); // the files' images are not the usual size
            }
            if (run == null) {
                Path dir = out != null ? out : Path.of("runs", dataset + "-"
                        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                run = RunDir.create(dir, config);
            } else {
                run.writeConfig(config);
            }
            Arch network = config.network();
            if (!common.json) {
                outw.printf("data: %s, %d train / %d test images; model %s (%d parameters); run folder %s%n", config.dataset(),
                        data.train().count(), data.test().count(), network == null ? Arrays.toString(config.layers())
                                : config.arch() + (config.arch().equals(network.layerList()) ? "" : " = " + network.layerList())
                                        + " on " + network.input(),
                        network == null ? paramCount(config.layers()) : network.parameterCount(), run.path());
                outw.flush();
            }
            try (Mlp model = network == null ? Trainer.initialModel(config, backend) : null;
                    Network net = network == null ? null : Trainer.initialNetwork(config, backend);
                    Trainer trainer = network == null ? new Trainer(config, backend, model) : new Trainer(config, backend, net)) {
                if (resume != null) {
                    run.resume(trainer, config);
                    if (!common.json) {
                        outw.println("resuming after epoch " + trainer.epochsDone() + " of " + config.totalEpochs());
                    }
                }
                EpochMetrics last;
                TrainConfig cfg = config;
                try (Progress progress = Progress.start(common.json, err)) {
                    last = run.trainToEnd(trainer, cfg, data, progress, m -> {
                        progress.finishTask();
                        if (common.json) {
                            outw.println(Json.write(m));
                        } else {
                            outw.println(EpochLine.of(m, cfg));
                        }
                        outw.flush();
                    });
                }
                if (!common.json) {
                    outw.println("model written to " + run.model() + (last == null ? " (nothing left to train)" : ""));
                }
            }
        }
        return 0;
    }

    /** Whether --arch names a model off the MLP path (decided by parsing it, as the config does). */
    private boolean isNetwork() {
        return arch != null && Arch.parse(arch, dev.cleave.data.Datasets.inputShape(dataset)).mlpWidths() == null;
    }

    /** The modular options, when --modular or any --modular-* option is given. */
    private ModularOptions modularOptions() {
        if (!modular && modularLambda == null && modularK == null && modularLayers == null && warmupEpochs == null
                && assign == null) {
            return null;
        }
        String layerSpec = modularLayers;
        if (layerSpec == null && isNetwork()) {
            layerSpec = NetworkLayers.defaultSpec(Arch.parse(arch, dev.cleave.data.Datasets.inputShape(dataset)));
        }
        return new ModularOptions(modularLambda == null ? ModularOptions.DEFAULT_LAMBDA : modularLambda,
                modularK == null ? ModularOptions.DEFAULT_K : modularK, layerSpec,
                warmupEpochs == null ? ModularOptions.DEFAULT_WARMUP : warmupEpochs, assign == null ? "cocluster" : assign);
    }

    private void rejectWithResume(String... names) {
        ParseResult pr = spec.commandLine().getParseResult();
        List<String> given = Arrays.stream(names).filter(pr::hasMatchedOption).toList();
        if (!given.isEmpty()) {
            throw new InvalidInputException("--resume continues a run with its saved config.json, so " + String.join(", ", given)
                    + (given.size() == 1 ? " is" : " are") + " not allowed with it (only --epochs, --backend, --threads)");
        }
    }

    private static long paramCount(int[] widths) {
        long n = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            n += (long) widths[l] * widths[l + 1] + widths[l + 1];
        }
        return n;
    }
}
