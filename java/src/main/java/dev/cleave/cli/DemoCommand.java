package dev.cleave.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.data.DatasetSplit;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.pipeline.Demo;
import dev.cleave.pipeline.ShuffleSummary;
import dev.cleave.report.Report;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cleave demo --out DIR}: the main job. Parses the options, loads Fashion-MNIST, runs
 * the demo's sequence ({@link Demo}: trains F21's MLP plainly and with the enmeshment loss,
 * clusters both with shuffle tests, cluster ablation and effective circuit size), writes
 * DIR/report.html and prints the summary from the returned records.
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

    @Option(names = "--arch", paramLabel = "ARCH", description = "the network (default: F21's MLP); e.g. g24-cnn: batch 64, "
            + "the enmeshment loss on the layers its paper clustered (fc2)")
    String arch;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for Fashion-MNIST")
    Path dataDir;

    @Option(names = "--no-install", description = "never install a missing data set")
    boolean noInstall;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long started = System.nanoTime();
        CommonOptions.shuffles(shuffles);
        AtomicFiles.ensureWritableDirectory(out, "--out");
        for (String name : Demo.RUNS) {
            if (Files.exists(out.resolve(name).resolve(RunDir.CONFIG))) {
                throw new InvalidInputException("--out " + out + " already holds a demo (" + out.resolve(name)
                        + "): choose another folder, or delete it");
            }
        }
        Device device = common.device(err);
        Demo.Request request = new Demo.Request(out, epochs, shuffles, ecsImages, dataDir, common.seed, device, arch);
        Demo.configs(request); // a bad --arch is reported before any data is read
        try (Backend backend = device.open()) {
            common.printHeader(w, "demo", device, common.seed);
            DatasetSplit data = DatasetInstaller.load("fashion-mnist", dataDir, !noInstall, msg -> {
                err.println(msg);
                err.flush();
            });
            List<Demo.Run> runs;
            try (Progress progress = Progress.start(common.json, err)) {
                runs = Demo.run(request, data, backend,
                        new Demo.Listener() {
                            @Override
                            public void step(String what) {
                                printStep(w, what);
                            }

                            @Override
                            public void epoch(TrainConfig config, EpochMetrics m) {
                                progress.finishTask();
                                if (!common.json) {
                                    w.println("  " + EpochLine.of(m, config));
                                    w.flush();
                                }
                            }

                            @Override
                            public void progress(String task, long done, long total) {
                                progress.progress(task, done, total);
                            }
                        });
            }
            Path report = out.resolve("report.html");
            printStep(w, "writing " + report);
            Report.write(runs.stream().map(Demo.Run::dir).toList(), report);
            summary(w, runs, report, (System.nanoTime() - started) / 1e9);
        }
        return 0;
    }

    private void printStep(PrintWriter w, String what) {
        if (!common.json) {
            w.println("== " + what);
            w.flush();
        }
    }

    private void summary(PrintWriter w, List<Demo.Run> runs, Path report, double seconds) {
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("report", report.toAbsolutePath().toString());
        json.put("seconds", seconds);
        if (!common.json) {
            w.printf("%n%-9s %9s %22s %8s %22s %7s %9s %8s%n", "run", "accuracy", arch == null ? "C (layers 1,2,3)" : "C (layers " + String.join(",", runs.get(1).config().modular().layers()) + ")", "n-cut", "shuffled", "z",
                    "mean ECS", "special.");
        }
        for (Demo.Run run : runs) {
            EpochMetrics last = run.last();
            String c;
            if (last.clusterability() != null) {
                c = last.clusterability().values().stream().map(v -> String.format("%.3f", v)).reduce((a, b) -> a + " " + b).orElse("");
            } else {
                StringBuilder sb = new StringBuilder();
                run.cocluster().layers().forEach(l -> sb.append(sb.length() == 0 ? "" : " ").append(String.format("%.3f", l.c())));
                c = sb + "*";
            }
            ShuffleSummary sh = run.cluster().shuffle();
            double ncut = run.cluster().result().ncut();
            double specialisation = run.circuits().ablation().specialisation();
            ObjectNode row = json.putObject(run.name());
            row.put("test_accuracy", last.testAccuracy());
            row.put("c", c);
            row.put("ncut", ncut);
            row.put("shuffled_mean", sh.mean());
            row.put("shuffled_sd", sh.sd());
            if (sh.z() == null) {
                row.putNull("z");
            } else {
                row.put("z", sh.z());
            }
            row.put("mean_ecs", run.circuits().meanEcs());
            row.put("specialisation", specialisation);
            if (!common.json) {
                w.printf("%-9s %9.4f %22s %8.3f %14.3f +- %5.3f %7.2f %9.4f %8.3f%n", run.name(), last.testAccuracy(), c, ncut,
                        sh.mean(), sh.sd(), sh.z() == null ? Double.NaN : sh.z(), run.circuits().meanEcs(), specialisation);
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
