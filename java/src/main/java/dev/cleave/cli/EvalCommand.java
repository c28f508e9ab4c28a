package dev.cleave.cli;

import dev.cleave.data.Dataset;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.nn.Shape;
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

    @Parameters(index = "0", paramLabel = "MODEL", description = "a model.safetensors written by cleave train or cleave init, "
            + "or a PyTorch state_dict saved as safetensors")
    Path modelPath;

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME", description = "fashion-mnist | mnist | mnist-idx | cifar10 (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "folder searched first for the data set's files")
    Path dataDir;

    @Option(names = "--split", defaultValue = "test", paramLabel = "test|train", description = "which split to evaluate (default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--no-install", description = "never install a missing data set")
    boolean noInstall;

    @Option(names = "--layers", split = ",", paramLabel = "NAME", description = "the model's conv and linear layers by weight or "
            + "module name, first layer first (default: found from the tensor names)")
    List<String> chain;

    @Option(names = "--arch", paramLabel = "ARCH", description = "the model's architecture (a preset or a layer list, as for "
            + "train) where the file does not record it, e.g. a PyTorch state_dict (conv1, fc1..fc4 or nn.Sequential names)")
    String arch;

    @Option(names = "--predictions", paramLabel = "FILE", description = "write each image's index, label, predicted label and "
            + "cross-entropy loss to FILE (CSV)")
    Path predictions;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!split.equals("test") && !split.equals("train")) {
            throw new dev.cleave.util.InvalidInputException("--split must be test or train, got " + split);
        }
        if (predictions != null) {
            dev.cleave.io.AtomicFiles.ensureWritableFile(predictions, "--predictions");
        }
        Device device = common.device(err);
        boolean network = arch != null || ModelFile.isNetworkFile(modelPath);
        Shape input = Datasets.inputShape(dataset);
        try (Backend backend = device.open();
                ModelFile.Loaded loaded = network ? null : ModelFile.load(modelPath, chain == null ? List.of() : chain);
                ModelFile.LoadedNetwork net = network ? ModelFile.loadNetwork(modelPath, arch, input,
                        chain == null ? List.of() : chain) : null) {
            common.printHeader(out, "eval", device, common.seed);
            String layers = network ? (net.layers() == null ? "" : net.layers() + "; arch ") + net.network().arch().layerList()
                    + " on " + net.network().arch().input() : loaded.layers();
            String assumption = network ? null : loaded.assumption();
            if (!common.json) {
                out.println(layers);
                if (assumption != null) {
                    out.println(assumption);
                }
                out.flush();
            }
            DatasetSplit data = DatasetInstaller.load(dataset, dataDir, !noInstall, msg -> {
                err.println(msg);
                err.flush();
            });
            Dataset d = split.equals("test") ? data.test() : data.train();
            StringBuilder csv = predictions == null ? null : new StringBuilder("index,label,predicted,loss\n");
            Evaluation.PerImage perImage = csv == null ? null : (index, label, predicted, loss) ->
                    csv.append(index).append(',').append(label).append(',').append(predicted).append(',').append(loss).append('\n');
            Evaluation e;
            try {
                e = network ? Evaluation.of(net.network(), d, backend, perImage) : Evaluation.of(loaded.model(), d, backend, perImage);
            } catch (ArithmeticException overflow) {
                if (network) {
                    throw new dev.cleave.util.InvalidInputException(modelPath + ": the model's outputs overflow to non-finite "
                            + "values: the file is damaged or was saved from a diverged run; use another model file", overflow);
                }
                throw ModelFile.nonFiniteOutputs(modelPath, loaded.model(), overflow);
            }
            if (csv != null) {
                try {
                    dev.cleave.io.AtomicFiles.writeString(predictions, csv.toString());
                } catch (java.io.IOException io) {
                    throw new dev.cleave.util.InvalidInputException("cannot write --predictions " + predictions + " ("
                            + dev.cleave.io.InputFiles.reason(io) + ")", io);
                }
            }
            if (common.json) {
                com.fasterxml.jackson.databind.node.ObjectNode node = Json.mapper().valueToTree(e);
                node.put("model_layers", layers);
                if (assumption != null) {
                    node.put("assumption", assumption);
                }
                if (predictions != null) {
                    node.put("predictions", predictions.toString());
                }
                out.println(Json.write(node));
            } else {
                out.printf("%s (%s split, %d images): accuracy %.4f, loss %.4f%n", d.name(), split, e.images(), e.accuracy(), e.loss());
                for (int c = 0; c < e.perClassAccuracy().length; c++) {
                    out.printf("  class %2d  %5d images  accuracy %.4f%n", c, e.perClassCount()[c], e.perClassAccuracy()[c]);
                }
                if (predictions != null) {
                    out.println("predictions written to " + predictions);
                }
            }
            out.flush();
        }
        return 0;
    }
}
