package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.data.Dataset;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Network;
import dev.cleave.nn.NetworkPass;
import dev.cleave.util.InvalidInputException;

/**
 * A model's test-set performance: mean cross-entropy, accuracy overall and per class.
 *
 * @param perClassAccuracy accuracy on the images of each class (NaN for a class with no images)
 * @param perClassCount    number of images of each class
 */
public record Evaluation(
        @JsonProperty("dataset") String dataset,
        @JsonProperty("images") int images,
        @JsonProperty("loss") double loss,
        @JsonProperty("accuracy") double accuracy,
        @JsonProperty("per_class_accuracy") double[] perClassAccuracy,
        @JsonProperty("per_class_count") int[] perClassCount) {

    /** Evaluation batch size: large enough for efficient GEMMs, small enough to stay in cache. */
    public static final int BATCH = 500;

    /**
     * Evaluates {@code model} on every image of {@code data} (no dropout) with {@code backend}'s
     * ops; a model held elsewhere (a host model and a CUDA device, as loaded from a file) is
     * copied into the backend's memory first.
     */
    public static Evaluation of(Mlp model, Dataset data, Backend backend) {
        return of(model, data, backend, null);
    }

    /** Evaluates with an existing pass (whose buffers are overwritten). */
    public static Evaluation of(Mlp model, Dataset data, MlpPass pass) {
        requireCompatible(model, data);
        return run(data, model.outputs(), pass.maxBatch(), (start, batch) -> {
            pass.loadBatch(data.images(), data.labels(), null, start, batch);
            return pass.forward(batch, 0f, 0, 0).toArray();
        }, pass::loss, null);
    }

    /**
     * Evaluates {@code network} in eval mode (no dropout, batchnorm on its running statistics) on
     * every image of {@code data}; a network held elsewhere is copied into the backend's memory first.
     */
    public static Evaluation of(Network network, Dataset data, Backend backend) {
        return of(network, data, backend, null);
    }

    /** As {@link #of(Network, Dataset, Backend)}; unless null, {@code perImage} receives each image's prediction. */
    public static Evaluation of(Network network, Dataset data, Backend backend, PerImage perImage) {
        boolean move = (backend.deviceMemory() != null) != network.onDevice();
        try (Network moved = move ? network.copyTo(backend) : null;
                NetworkPass pass = new NetworkPass(backend, move ? moved : network, Math.min(BATCH, data.count()))) {
            return of(move ? moved : network, data, pass, perImage);
        }
    }

    /** Evaluates with an existing pass (whose buffers are overwritten). */
    public static Evaluation of(Network network, Dataset data, NetworkPass pass) {
        return of(network, data, pass, null);
    }

    private static Evaluation of(Network network, Dataset data, NetworkPass pass, PerImage perImage) {
        requireCompatible(network, data);
        return run(data, network.arch().output().size(), pass.maxBatch(), (start, batch) -> {
            pass.loadBatch(data.images(), data.labels(), null, start, batch);
            return pass.forward(batch, false, 0, 0).toArray();
        }, pass::loss, perImage);
    }

    /** As {@link #of(Mlp, Dataset, Backend)}, with each image's prediction to {@code perImage}. */
    public static Evaluation of(Mlp model, Dataset data, Backend backend, PerImage perImage) {
        boolean move = (backend.deviceMemory() != null) != model.weight(0).onDevice();
        try (Mlp moved = move ? model.copyTo(backend) : null;
                MlpPass pass = new MlpPass(backend, move ? moved : model, Math.min(BATCH, data.count()))) {
            Mlp m = move ? moved : model;
            requireCompatible(m, data);
            return run(data, m.outputs(), pass.maxBatch(), (start, batch) -> {
                pass.loadBatch(data.images(), data.labels(), null, start, batch);
                return pass.forward(batch, 0f, 0, 0).toArray();
            }, pass::loss, perImage);
        }
    }

    /** Receives one image's index, label, predicted label and cross-entropy loss. */
    @FunctionalInterface
    public interface PerImage {
        void accept(int index, int label, int predicted, double loss);
    }

    private interface Forward {
        float[] logits(int start, int batch);
    }

    /**
     * The evaluation loop: logits batch by batch; the loss sum and correct count from the
     * backend's softmax_xent (an {@link ArithmeticException} on a non-finite logit), per class
     * from the logits' argmax, and each image's loss as -log softmax(logits)[label] in double
     * precision for {@code perImage}.
     */
    private static Evaluation run(Dataset data, int classes, int maxBatch, Forward forward,
            java.util.function.IntFunction<Backend.XentResult> backendLoss, PerImage perImage) {
        int[] hits = new int[classes];
        int[] counts = new int[classes];
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < data.count(); start += maxBatch) {
            int batch = Math.min(maxBatch, data.count() - start);
            float[] logits = forward.logits(start, batch);
            Backend.XentResult res = backendLoss.apply(batch); // the loss as training computes it; throws on a non-finite logit
            lossSum += res.lossSum();
            correct += res.correct();
            for (int r = 0; r < batch; r++) {
                int label = data.labels()[start + r];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < classes; j++) {
                    float v = logits[r * classes + j];
                    if (!Float.isFinite(v)) {
                        throw new ArithmeticException("softmax_xent: logit " + j + " of image " + (start + r) + " is " + v);
                    }
                    max = Math.max(max, v);
                }
                double sum = 0;
                for (int j = 0; j < classes; j++) {
                    sum += Math.exp(logits[r * classes + j] - max);
                }
                double loss = Math.log(sum) + max - logits[r * classes + label];
                int predicted = argmax(logits, r, classes);
                counts[label]++;
                if (predicted == label) {
                    hits[label]++;
                }
                if (perImage != null) {
                    perImage.accept(start + r, label, predicted, loss);
                }
            }
        }
        double[] perClass = new double[classes];
        for (int c = 0; c < classes; c++) {
            perClass[c] = counts[c] == 0 ? Double.NaN : (double) hits[c] / counts[c];
        }
        return new Evaluation(data.name(), data.count(), lossSum / data.count(), (double) correct / data.count(), perClass,
                counts);
    }

    /** Fails clearly when the network's input shape or outputs do not fit the data. */
    public static void requireCompatible(Network network, Dataset data) {
        dev.cleave.nn.Arch a = network.arch();
        if (!a.input().equals(data.shape())) {
            throw new InvalidInputException("the model takes " + a.input() + " images but " + data.name() + " images are "
                    + data.shape() + ": train or evaluate it on a data set of that shape");
        }
        a.requireOutputs(data.classes(), data.name());
    }

    /** Fails clearly when the model's input or output width does not fit the data. */
    public static void requireCompatible(Mlp model, Dataset data) {
        if (model.inputs() != data.features()) {
            throw new InvalidInputException("the model's input width is " + model.inputs() + " but " + data.name()
                    + " images have " + data.features() + " pixels (" + data.rows() + " x " + data.cols()
                    + "): the first --layers width must be " + data.features());
        }
        if (model.outputs() != data.classes()) {
            throw new InvalidInputException("the model has " + model.outputs() + " outputs but " + data.name() + " has "
                    + data.classes() + " classes: the last --layers width must be " + data.classes());
        }
    }

    private static int argmax(float[] logits, int row, int classes) {
        int best = 0;
        for (int j = 1; j < classes; j++) {
            if (logits[row * classes + j] > logits[row * classes + best]) {
                best = j;
            }
        }
        return best;
    }
}
