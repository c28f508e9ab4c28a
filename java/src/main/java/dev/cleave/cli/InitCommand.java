package dev.cleave.cli;

import dev.cleave.io.InputFiles;
import dev.cleave.io.Json;
import dev.cleave.nn.Arch;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Network;
import dev.cleave.train.ClusterableInit;
import dev.cleave.train.ModelFile;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cleave init}: an untrained model, exactly as {@code cleave train} with the same
 * --arch, --dataset, --seed and --clusterable-init starts (F21 compares trained networks with
 * random ones).
 */
@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write an untrained model: the initial weights cleave train starts from with the same options.")
final class InitCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--arch", defaultValue = "f21-mlp", paramLabel = "ARCH", description = "a preset (" + ArchHelp.PRESETS
            + ") or a layer list, as for train (default: ${DEFAULT-VALUE})")
    String arch;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME", description = "the data set whose image "
            + "shape the model takes: fashion-mnist | mnist | mnist-idx (1x28x28) | cifar10 (3x32x32); no file is read "
            + "(default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "the one seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--clusterable-init", description = "F21's clusterable initialisation (MLPs: 10 modules, down 0.6; "
            + "CNNs: down 0.8 on whole kernel slices, first conv left alone)")
    boolean clusterableInit;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "the model file to write (safetensors)")
    Path out;

    @Option(names = "--json", description = "machine-readable JSON output instead of text")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        CommonOptions.checkOut(out);
        Arch a = Arch.parse(arch, dev.cleave.data.Datasets.inputShape(dataset));
        boolean mlp = a.mlpWidths() != null;
        ClusterableInit ci = !clusterableInit ? null : mlp ? ClusterableInit.f21() : ClusterableInit.f21Cnn();
        // the config train would record, so the weights are exactly train's first ones
        TrainConfig config = new TrainConfig(dataset, null, null, 1, TrainConfig.DEFAULT_BATCH, TrainConfig.DEFAULT_LR, 0f, 0f, 0f,
                seed, Device.Kind.CPU, 1, null, null, ci, null, arch, null);
        a.requireOutputs(10, dataset);
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("epochs_done", "0");
        extra.put("init", "untrained: cleave init --arch " + arch + " --dataset " + dataset + " --seed " + seed
                + (clusterableInit ? " --clusterable-init" : ""));
        long params;
        try {
            if (mlp) {
                try (Mlp m = Trainer.initialModel(config)) {
                    params = m.parameterCount();
                    ModelFile.save(out, m, null, extra);
                }
            } else {
                try (Network n = Network.glorotUniform(config.network(), seed)) {
                    if (ci != null) {
                        ci.apply(n, seed);
                    }
                    params = n.parameterCount();
                    ModelFile.save(out, n, null, extra, 0);
                }
            }
        } catch (IOException e) {
            throw new InvalidInputException("cannot write --out " + out + " (" + InputFiles.reason(e) + ")", e);
        }
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("command", "init");
            r.put("arch", a.layerList());
            r.put("input_shape", a.input().toString());
            r.put("parameters", params);
            r.put("seed", seed);
            r.put("out", out.toString());
            w.println(Json.write(r));
        } else {
            w.printf("untrained %s on %s (%d parameters, seed %d) written to %s%n", arch.equals(a.layerList()) ? arch
                    : arch + " = " + a.layerList(), a.input(), params, seed, out);
        }
        w.flush();
        return 0;
    }
}
