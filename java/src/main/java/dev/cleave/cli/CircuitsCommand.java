package dev.cleave.cli;

import dev.cleave.circuits.AblationResult;
import dev.cleave.circuits.EcsResult;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.data.Dataset;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.pipeline.CircuitsRequest;
import dev.cleave.pipeline.CircuitsRun;
import dev.cleave.pipeline.Pipeline;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cleave circuits MODEL}: do the modules mean something? Cluster ablation (cluster x label
 * accuracy drops, specialisation), effective circuit size per label, and the overlaps.
 */
@Command(name = "circuits", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Cluster ablation and effective circuit size per label (G24/G25).")
final class CircuitsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors (cleave train)")
    Path model;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME", description = "data set (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for the data set's files")
    Path dataDir;

    @Option(names = "--no-install", description = "never install a missing data set")
    boolean noInstall;

    @Option(names = "--clusters", paramLabel = "FILE", description = "clusters from a cleave cocluster --out FILE (default: the "
            + "model's own modular clusters, else co-cluster the hidden layers with --k)")
    Path clustersFile;

    @Option(names = "--k", defaultValue = "4", paramLabel = "K", description = "co-clusters when the model has none (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--layers", split = ",", paramLabel = "NAME", description = "an MLP: the model's layers by weight or module "
            + "name, first layer first (default: found from the tensor names); a CNN: the layers to co-cluster, fcN, convN or "
            + "sequence indices (default: its dense hidden-to-hidden layers)")
    List<String> chain;

    @Option(names = "--arch", paramLabel = "ARCH", description = "the network's architecture for a file that does not record "
            + "it (a preset or a layer list, as for eval --arch); cleave-net-v1 files say their own")
    String arch;

    @Option(names = "--images-per-label", defaultValue = "0", paramLabel = "N",
            description = "ECS on the first N test images of each label (0 = all: exact)")
    int imagesPerLabel;

    @Option(names = "--ecs-layers", split = ",", paramLabel = "L", description = "layers the ECS search covers (default: all; "
            + "a CNN: sequence indices of linear layers)")
    int[] ecsLayers;

    @Option(names = "--ecs-channels", description = "a CNN: also the effective circuit over conv channels (a channel kept or "
            + "pruned as a whole)")
    boolean ecsChannels;

    @Option(names = "--method", defaultValue = "fast", paramLabel = "fast|naive", description = "ECS search (default: ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--no-ecs", description = "only the cluster ablation")
    boolean noEcs;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON result to FILE (e.g. RUN_DIR/circuits.json)")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (k < 1) {
            throw new InvalidInputException("--k must be >= 1 (co-clusters per layer), got " + k);
        }
        CommonOptions.checkOut(out);
        Device device = common.device(err);
        try (Backend backend = device.open()) {
            common.printHeader(w, "circuits", device, common.seed);
            Dataset test = DatasetInstaller.load(dataset, dataDir, !noInstall, msg -> {
                err.println(msg);
                err.flush();
            }).test();
            CircuitsRun result;
            try (Progress progress = Progress.start(common.json, err)) {
                EffectiveCircuitSize.Options ecs = noEcs ? null
                        : new EffectiveCircuitSize.Options(null, imagesPerLabel, ecsLayers, method, device.threads());
                result = Pipeline.circuits(new CircuitsRequest(model, chain, clustersFile, k, dataset, dataDir, ecs, common.seed,
                        device, out, arch, ecsChannels), test, backend, progress);
            }
            CircuitsRun printed = result;
            common.emit(w, result, out, () -> printText(w, printed));
        }
        return 0;
    }

    private static void printText(PrintWriter w, CircuitsRun r) {
        if (r.arch() != null) {
            w.println("network: " + r.arch());
        }
        CommonOptions.printLayers(w, r.modelLayers(), r.assumption());
        AblationResult a = r.ablation();
        w.println("clusters: " + r.clustersFrom() + "; layers " + Arrays.toString(a.layers()).replace(" ", "") + ", k = " + a.k());
        w.println("accuracy drop when a cluster is switched off (rows: clusters, columns: labels 0..):");
        for (double[] row : a.offDrop()) {
            StringBuilder sb = new StringBuilder("  ");
            for (double v : row) {
                sb.append(String.format("%7.3f", v));
            }
            w.println(sb);
        }
        w.printf("specialisation %.3f; most-needed cluster per label %s%n", a.specialisation(),
                Arrays.toString(a.mostNeededCluster()).replace(" ", ""));
        if (r.ecs() != null) {
            EcsResult e = r.ecsResult();
            StringBuilder sb = new StringBuilder();
            for (double v : r.ecs()) {
                sb.append(String.format(" %.4f", v));
            }
            String over = e.unit() == null ? "" : " (dense layers " + Arrays.toString(e.layers()).replace(" ", "") + ")";
            w.printf("effective circuit size per label%s:%s (mean %.4f; %s; %.1f s)%n", over, sb, r.meanEcs(),
                    e.approximation() == null ? "exact" : e.approximation(), e.seconds());
            w.printf("mean Jaccard overlap between labels' circuits %.3f%n", r.meanCircuitOverlap());
        }
        if (r.channelEcs() != null) {
            EcsResult e = r.channelEcsResult();
            StringBuilder sb = new StringBuilder();
            for (double v : r.channelEcs()) {
                sb.append(String.format(" %.4f", v));
            }
            w.printf("channel circuit size per label (%d channels of layers %s):%s (mean %.4f; %s; %.1f s)%n", e.weights(),
                    Arrays.toString(e.layers()).replace(" ", ""), sb, r.meanChannelEcs(),
                    e.approximation() == null ? "exact" : e.approximation(), e.seconds());
        }
    }
}
