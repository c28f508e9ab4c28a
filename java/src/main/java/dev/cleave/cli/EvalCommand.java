package dev.cleave.cli;

import dev.cleave.data.Dataset;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.train.Evaluation;
import dev.cleave.train.ModelFile;
import java.io.PrintWriter;
import java.nio.file.Path;
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

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!split.equals("test") && !split.equals("train")) {
            throw new dev.cleave.util.InvalidInputException("--split must be test or train, got " + split);
        }
        try (Backend backend = common.createBackend(common.backend, common.threads(), err);
                ModelFile.Loaded loaded = ModelFile.load(modelPath)) {
            common.printHeader(out, "eval", backend.name(), backend.threads(), common.seed);
            DatasetSplit data = Datasets.load(dataset, dataDir, !noInstall, msg -> {
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
                out.println(Json.write(e));
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
