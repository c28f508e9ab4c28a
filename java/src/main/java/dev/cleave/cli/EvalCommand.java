package dev.cleave.cli;

import dev.cleave.data.Dataset;
import dev.cleave.data.DatasetSplit;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.train.Evaluation;
import dev.cleave.train.ModelFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cleave eval MODEL}: accuracy overall and per class on a data set's test (or train) split. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a trained model: loss, accuracy overall and per class.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors written by cleave train")
    Path modelPath;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME", description = "fashion-mnist | mnist | mnist-idx (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for the data set's files")
    Path dataDir;

    @Option(names = "--split", defaultValue = "test", paramLabel = "test|train", description = "which split to evaluate (default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--no-install", description = "never install a missing data set")
    boolean noInstall;

    @Option(names = "--layers", split = ",", paramLabel = "NAME", description = "the model's layers by weight or module name, "
            + "first layer first (default: found from the tensor names)")
    List<String> chain;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!split.equals("test") && !split.equals("train")) {
            throw new dev.cleave.util.InvalidInputException("--split must be test or train, got " + split);
        }
        Device device = common.device(err);
        try (Backend backend = device.open(); ModelFile.Loaded loaded = ModelFile.load(modelPath, chain == null ? List.of() : chain)) {
            common.printHeader(out, "eval", device, common.seed);
            if (!common.json) {
                out.println(loaded.layers());
                if (loaded.assumption() != null) {
                    out.println(loaded.assumption());
                }
                out.flush();
            }
            DatasetSplit data = DatasetInstaller.load(dataset, dataDir, !noInstall, msg -> {
                err.println(msg);
                err.flush();
            });
            Dataset d = split.equals("test") ? data.test() : data.train();
            Evaluation e;
            try {
                e = Evaluation.of(loaded.model(), d, backend);
            } catch (ArithmeticException overflow) {
                throw ModelFile.nonFiniteOutputs(modelPath, loaded.model(), overflow);
            }
            if (common.json) {
                com.fasterxml.jackson.databind.node.ObjectNode node = Json.mapper().valueToTree(e);
                node.put("model_layers", loaded.layers());
                if (loaded.assumption() != null) {
                    node.put("assumption", loaded.assumption());
                }
                out.println(Json.write(node));
            } else {
                out.printf("%s (%s split, %d images): accuracy %.4f, loss %.4f%n", d.name(), split, e.images(), e.accuracy(), e.loss());
                for (int c = 0; c < e.perClassAccuracy().length; c++) {
                    out.printf("  class %2d  %5d images  accuracy %.4f%n", c, e.perClassCount()[c], e.perClassAccuracy()[c]);
                }
            }
            out.flush();
        }
        return 0;
    }
}
