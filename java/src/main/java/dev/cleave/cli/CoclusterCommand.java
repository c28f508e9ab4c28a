package dev.cleave.cli;

import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.nn.Device;
import dev.cleave.pipeline.CoclusterRequest;
import dev.cleave.pipeline.CoclusterRun;
import dev.cleave.pipeline.Pipeline;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cleave cocluster MODEL --k 4}: each chosen layer's row/column co-clusters and their clusterability C. */
@Command(name = "cocluster", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Bipartite spectral co-clustering (Dhillon 2001) of each chosen layer's |W| (of a CNN's conv layer: its "
                + "out x in channel-norm matrix), and C, the share of its squared weight inside the k diagonal blocks.")
final class CoclusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors (cleave train or init; an MLP or a CNN, or a PyTorch state_dict)")
    Path model;

    @Option(names = "--k", defaultValue = "4", paramLabel = "K", description = "co-clusters per layer (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = {"--layers", "--layer"}, defaultValue = "hidden", paramLabel = "hidden|all|LIST", description = "layers: hidden, all, "
            + "indices (0,2) or weight/module names (fc2.weight,fc3) (default: ${DEFAULT-VALUE})")
    String layers;

    @Option(names = "--n-init", defaultValue = "25", paramLabel = "N", description = "k-means++ restarts (default: ${DEFAULT-VALUE})")
    int nInit;

    @Option(names = "--variant", defaultValue = "joint", paramLabel = "V", description = "joint (Dhillon) | separate (G24 code) (default: ${DEFAULT-VALUE})")
    String variant;

    @Option(names = "--slice-norm", paramLabel = "N", description = "for a CNN, the norm of a kernel slice K[j,i,:,:] in a conv "
            + "layer's out x in channel-norm matrix (and of a dense block after flatten): l1 | max-col-sum | l2 (default: l1)")
    String sliceNorm;

    @Option(names = "--out", paramLabel = "FILE", description = "also write the JSON result to FILE (e.g. RUN_DIR/cocluster.json)")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter w = spec.commandLine().getOut();
        CommonOptions.checkOut(out);
        CommonOptions.nInit(nInit);
        Device device = common.device(spec.commandLine().getErr());
        common.printHeader(w, "cocluster", device, common.seed);
        CoclusterRun result = Pipeline.cocluster(new CoclusterRequest(model, k, layers, CoClusterVariant.parse(variant), nInit,
                sliceNorm == null ? null : CommonOptions.sliceNorm(sliceNorm), common.seed, device, out));
        common.emit(w, result, out, () -> {
            CommonOptions.printLayers(w, result.modelLayers(), result.assumption());
            if (result.sliceNorm() != null) {
                w.println("co-clustering each layer's channel-norm matrix (" + result.sliceNorm() + " norm of each kernel slice;"
                        + " C over whole slices)");
            }
            for (CoclusterRun.Layer layer : result.layers()) {
                w.printf("%s: C = %.4f, row cluster sizes %s, column cluster sizes %s%n", layer.name(), layer.c(),
                        Arrays.toString(layer.rowSizes()).replace(" ", ""), Arrays.toString(layer.columnSizes()).replace(" ", ""));
            }
        });
        return 0;
    }
}
