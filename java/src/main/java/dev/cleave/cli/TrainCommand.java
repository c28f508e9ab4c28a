package dev.cleave.cli;

import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.train.Checkpoint;
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

/** {@code cleave train}: train an MLP on a data set, writing model, metrics and checkpoints to --out. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train an MLP (default: F21's 784-256-256-256-256-10) with Adam on a data set.")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME",
            description = "fashion-mnist | mnist | mnist-idx (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for the data set's files")
    Path dataDir;

    @Option(names = "--no-install", description = "never install a missing data set (default: install it when running as root)")
    boolean noInstall;

    @Option(names = "--layers", split = ",", paramLabel = "W", description = "layer widths, input first (default: 784,256,256,256,256,10)")
    int[] layers;

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

    @Option(names = "--l2", defaultValue = "0", paramLabel = "R", description = "L2 penalty: adds R * sum w^2 to the loss (default: ${DEFAULT-VALUE})")
    float l2;

    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: runs/<dataset>-<date-time>)")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR from its last finished epoch; "
            + "only --epochs, --backend and --threads may be given with it")
    Path resume;

    @Override
    public Integer call() {
        PrintWriter outw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RunDir run = null;
        TrainConfig config;
        if (resume != null) {
            rejectWithResume("--dataset", "--data-dir", "--layers", "--batch-size", "--lr", "--dropout", "--l1", "--l2", "--out", "--seed");
            run = RunDir.open(resume);
            config = run.readConfig();
            ParseResult pr = spec.commandLine().getParseResult();
            if (pr.hasMatchedOption("--epochs")) {
                config = config.withEpochs(epochs);
            }
            config = config.withBackend(pr.hasMatchedOption("--backend") ? common.backend : config.backend(),
                    pr.hasMatchedOption("--threads") ? common.threads() : config.threads());
        } else {
            config = new TrainConfig(dataset, dataDir == null ? null : dataDir.toString(), layers, epochs, batchSize, lr, dropout,
                    l1, l2, common.seed, common.backend, common.threads());
        }
        try (Backend backend = common.createBackend(config.backend(), config.threads(), err)) {
            common.printHeader(outw, "train", backend.name(), backend.threads(), config.seed());
            if (run == null) {
                Path dir = out != null ? out : Path.of("runs", dataset + "-"
                        + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
                run = RunDir.create(dir, config);
            } else {
                run.writeConfig(config);
            }
            DatasetSplit data = Datasets.load(config.dataset(), config.dataDir() == null ? null : Path.of(config.dataDir()),
                    !noInstall, msg -> {
                        err.println(msg);
                        err.flush();
                    });
            if (!common.json) {
                outw.printf("data: %s, %d train / %d test images; model %s (%d parameters); run folder %s%n", config.dataset(),
                        data.train().count(), data.test().count(), Arrays.toString(config.layers()),
                        paramCount(config.layers()), run.path());
                outw.flush();
            }
            try (Mlp model = Mlp.glorotUniform(config.layers(), config.seed()); Trainer trainer = new Trainer(config, backend, model)) {
                if (resume != null) {
                    Checkpoint c = run.readCheckpoint();
                    if (c != null) {
                        trainer.restore(c);
                    }
                    run.trimMetrics(trainer.epochsDone());
                    if (!common.json) {
                        outw.println("resuming after epoch " + trainer.epochsDone() + " of " + config.epochs());
                    }
                }
                EpochMetrics last = null;
                try (Progress progress = Progress.start(common.json, err)) {
                    while (trainer.epochsDone() < config.epochs()) {
                        last = trainer.runEpoch(data.train(), data.test(), progress);
                        progress.finishTask();
                        run.saveEpoch(trainer, config, last);
                        if (common.json) {
                            outw.println(Json.write(last));
                        } else {
                            outw.printf("epoch %d/%d  train loss %.4f  test loss %.4f  test accuracy %.4f  %.1f s  %.0f samples/s%n",
                                    last.epoch(), config.epochs(), last.trainLoss(), last.testLoss(), last.testAccuracy(),
                                    last.seconds(), last.samplesPerSecond());
                        }
                        outw.flush();
                    }
                }
                if (!common.json) {
                    outw.println("model written to " + run.model() + (last == null ? " (nothing left to train)" : ""));
                }
            }
        }
        return 0;
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
