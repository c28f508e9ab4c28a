package dev.cleave.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.data.Dataset;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
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
        boolean move = (backend.deviceMemory() != null) != model.weight(0).onDevice();
        try (Mlp moved = move ? model.copyTo(backend) : null;
                MlpPass pass = new MlpPass(backend, move ? moved : model, Math.min(BATCH, data.count()))) {
            return of(move ? moved : model, data, pass);
        }
    }

    /** Evaluates with an existing pass (whose buffers are overwritten). */
    public static Evaluation of(Mlp model, Dataset data, MlpPass pass) {
        requireCompatible(model, data);
        int classes = model.outputs();
        int[] hits = new int[classes];
        int[] counts = new int[classes];
        double lossSum = 0;
        int correct = 0;
        for (int start = 0; start < data.count(); start += pass.maxBatch()) {
            int batch = Math.min(pass.maxBatch(), data.count() - start);
            pass.loadBatch(data.images(), data.labels(), null, start, batch);
            float[] logits = pass.forward(batch, 0f, 0, 0).toArray();
            Backend.XentResult res = pass.loss(batch);
            lossSum += res.lossSum();
            correct += res.correct();
            for (int r = 0; r < batch; r++) {
                int label = data.labels()[start + r];
                counts[label]++;
                if (argmax(logits, r, classes) == label) {
                    hits[label]++;
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
