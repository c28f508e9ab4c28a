package dev.cleave.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.report.Report;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.ModularOptions;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cleave demo --out DIR}: the main job. On Fashion-MNIST, trains F21's MLP plainly and
 * with the enmeshment loss (same seed, same epochs), clusters both with shuffle tests, runs
 * cluster ablation and effective circuit size, and writes DIR/report.html.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train F21's MLP plainly and with the enmeshment loss on Fashion-MNIST, cluster both, measure their "
                + "circuits, and write DIR/report.html.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--epochs", defaultValue = "20", paramLabel = "N", description = "epochs per run (default: ${DEFAULT-VALUE}, G24: 5 warm-up + 15)")
    int epochs;

    @Option(names = "--shuffles", defaultValue = "50", paramLabel = "N", description = "shuffle-test shuffles (default: ${DEFAULT-VALUE})")
    int shuffles;

    @Option(names = "--ecs-images", defaultValue = "200", paramLabel = "N",
            description = "test images per label for the effective circuit size (default: ${DEFAULT-VALUE}; 0 = all 1000, exact, ~5 min per model)")
    int ecsImages;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for Fashion-MNIST")
    Path dataDir;

    @Option(names = "--no-install", description = "never install a missing data set")
    boolean noInstall;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long started = System.nanoTime();
        AtomicFiles.ensureWritableDirectory(out, "--out");
        for (String name : new String[] {"baseline", "modular"}) {
            if (Files.exists(out.resolve(name).resolve(RunDir.CONFIG))) {
                throw new InvalidInputException("--out " + out + " already holds a demo (" + out.resolve(name)
                        + "): choose another folder, or delete it");
            }
        }
        try (Backend backend = common.createBackend(common.backend, common.threads(), err)) {
            common.printHeader(w, "demo", backend.name(), backend.threads(), common.seed);
            dev.cleave.cluster.Backend engine = dev.cleave.cluster.Backend.forCompute(backend.name());
            DatasetSplit data = Datasets.load("fashion-mnist", dataDir, !noInstall, msg -> {
                err.println(msg);
                err.flush();
            });
            TrainConfig plain = TrainConfig.defaults("fashion-mnist", epochs, common.seed)
                    .withBackend(backend.name(), backend.threads());
            if (dataDir != null) {
                plain = new TrainConfig(plain.dataset(), dataDir.toString(), plain.layers(), plain.epochs(), plain.batchSize(),
                        plain.lr(), plain.dropout(), plain.l1(), plain.l2(), plain.seed(), plain.backend(), plain.threads(), null,
                        null, null, null);
            }
            int warmup = Math.min(ModularOptions.DEFAULT_WARMUP, Math.max(0, epochs - 1));
            TrainConfig modular = plain.withModular(new ModularOptions(ModularOptions.DEFAULT_LAMBDA, ModularOptions.DEFAULT_K,
                    "hidden", warmup, "cocluster"));
            List<Path> runs = new ArrayList<>();
            try (Progress progress = Progress.start(common.json, err)) {
                for (TrainConfig config : List.of(plain, modular)) {
                    String name = config.modular() == null ? "baseline" : "modular";
                    Path dir = out.resolve(name);
                    runs.add(dir);
                    step(w, "training " + name + ": " + config.commandLine() + " --out " + dir);
                    try (RunDir run = RunDir.create(dir, config); Mlp model = Trainer.initialModel(config, backend);
                            Trainer trainer = new Trainer(config, backend, model)) {
                        run.trainToEnd(trainer, config, data, progress, m -> {
                            progress.finishTask();
                            if (!common.json) {
                                w.println("  " + TrainCommand.describe(m, config));
                                w.flush();
                            }
                        });
                    }
                }
                ClusterOptions clusterOptions = ClusterOptions.defaults().withSeed(common.seed).withThreads(common.threads())
                        .withBackend(engine);
                for (Path dir : runs) {
                    step(w, "clustering " + dir.getFileName() + " (k = 12, " + shuffles + " layer shuffles)");
                    ObjectNode c = ClusterCommand.clusterModel(dir.resolve(RunDir.MODEL), clusterOptions, shuffles,
                            ShuffleMethod.LAYER, progress);
                    c.put("command", "cleave cluster " + dir.resolve(RunDir.MODEL) + " --k 12 --shuffles " + shuffles
                            + " --seed " + common.seed + " --out " + dir.resolve("cluster.json"));
                    AtomicFiles.writeString(dir.resolve("cluster.json"), Json.writePretty(c) + "\n");
                }
                Path baseline = runs.get(0);
                step(w, "co-clustering the baseline's hidden layers (k = 4) for comparison");
                ObjectNode co = CoclusterCommand.cocluster(baseline.resolve(RunDir.MODEL), ModularOptions.DEFAULT_K, "hidden",
                        CoClusterVariant.JOINT, common.seed, common.threads(), engine);
                co.put("command", "cleave cocluster " + baseline.resolve(RunDir.MODEL) + " --k 4 --out "
                        + baseline.resolve("cocluster.json"));
                AtomicFiles.writeString(baseline.resolve("cocluster.json"), Json.writePretty(co) + "\n");
                for (Path dir : runs) {
                    step(w, "circuits of " + dir.getFileName() + " (cluster ablation; ECS on " + (ecsImages == 0 ? "all"
                            : ecsImages) + " test images per label)");
                    Path clusters = dir == baseline ? baseline.resolve("cocluster.json") : null;
                    ObjectNode c = CircuitsCommand.circuits(dir.resolve(RunDir.MODEL), clusters, ModularOptions.DEFAULT_K,
                            data.test(), backend, new EffectiveCircuitSize.Options(null, ecsImages, null,
                                    EffectiveCircuitSize.Options.FAST, common.threads()), common.seed, progress);
                    c.put("command", "cleave circuits " + dir.resolve(RunDir.MODEL) + (clusters == null ? "" : " --clusters " + clusters)
                            + " --images-per-label " + ecsImages + " --out " + dir.resolve("circuits.json"));
                    AtomicFiles.writeString(dir.resolve("circuits.json"), Json.writePretty(c) + "\n");
                }
            }
            Path report = out.resolve("report.html");
            step(w, "writing " + report);
            Report.write(runs, report);
            summary(w, runs, report, (System.nanoTime() - started) / 1e9);
        }
        return 0;
    }

    private void step(PrintWriter w, String what) {
        if (!common.json) {
            w.println("== " + what);
            w.flush();
        }
    }

    private void summary(PrintWriter w, List<Path> runs, Path report, double seconds) throws IOException {
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("report", report.toAbsolutePath().toString());
        json.put("seconds", seconds);
        if (!common.json) {
            w.printf("%n%-9s %9s %22s %8s %22s %7s %9s %8s%n", "run", "accuracy", "C (layers 1,2,3)", "n-cut", "shuffled", "z",
                    "mean ECS", "special.");
        }
        for (Path dir : runs) {
            String name = dir.getFileName().toString();
            List<String> lines = Files.readAllLines(dir.resolve(RunDir.METRICS));
            EpochMetrics last = Json.read(lines.get(lines.size() - 1), EpochMetrics.class);
            JsonNode cluster = Json.mapper().readTree(dir.resolve("cluster.json").toFile());
            JsonNode circuits = Json.mapper().readTree(dir.resolve("circuits.json").toFile());
            String c;
            if (last.clusterability() != null) {
                c = last.clusterability().values().stream().map(v -> String.format("%.3f", v)).reduce((a, b) -> a + " " + b).orElse("");
            } else {
                JsonNode co = Json.mapper().readTree(dir.resolve("cocluster.json").toFile());
                StringBuilder sb = new StringBuilder();
                co.get("layers").forEach(l -> sb.append(sb.length() == 0 ? "" : " ").append(String.format("%.3f", l.get("c").asDouble())));
                c = sb + "*";
            }
            JsonNode sh = cluster.get("shuffle");
            ObjectNode row = json.putObject(name);
            row.put("test_accuracy", last.testAccuracy());
            row.put("c", c);
            row.put("ncut", cluster.get("ncut").asDouble());
            row.put("shuffled_mean", sh.get("mean").asDouble());
            row.put("shuffled_sd", sh.get("sd").asDouble());
            row.set("z", sh.get("z"));
            row.put("mean_ecs", circuits.get("mean_ecs").asDouble());
            row.put("specialisation", circuits.get("ablation").get("specialisation").asDouble());
            if (!common.json) {
                w.printf("%-9s %9.4f %22s %8.3f %14.3f +- %5.3f %7.2f %9.4f %8.3f%n", name, last.testAccuracy(), c,
                        cluster.get("ncut").asDouble(), sh.get("mean").asDouble(), sh.get("sd").asDouble(), sh.get("z").asDouble(),
                        circuits.get("mean_ecs").asDouble(), circuits.get("ablation").get("specialisation").asDouble());
            }
        }
        if (common.json) {
            w.println(Json.write(json));
        } else {
            w.println("(* baseline C under its own co-clusters, k = 4)");
            w.printf("report: %s  (%.0f s)%n", report.toAbsolutePath(), seconds);
        }
        w.flush();
    }
}
