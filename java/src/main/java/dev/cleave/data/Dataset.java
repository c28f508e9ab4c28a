package dev.cleave.data;

import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A labelled image data set held in memory: {@code count()} images of {@code channels} x
 * {@code rows x cols} pixels (grey-scale: one channel), each with a class label.
 *
 * <p>{@link #images} is row-major, {@code count() x features()}: image {@code i} occupies
 * {@code images[i * features() .. (i + 1) * features())}, its pixels channel by channel, each in row-major order (CHW), each
 * scaled to [0, 1] (0 = background). {@link #labels} has one entry per image, in
 * [0, {@code classes}).
 *
 * <p>Immutable by contract: like {@link dev.cleave.util.FloatMatrix}, the arrays are neither
 * copied on construction nor by the accessors (a Fashion-MNIST training set is 188 MB of
 * floats), so whoever builds a Dataset hands its arrays over and nobody may write to them
 * afterwards. Every method returns new arrays or new datasets.
 *
 * <p>The constructor validates everything (shape, lengths, label range, pixel range) and
 * throws {@link InvalidInputException} naming the data set and what is wrong.
 */
public record Dataset(String name, int rows, int cols, int classes, float[] images, int[] labels, int channels) {

    /** A grey-scale data set (one channel). */
    public Dataset(String name, int rows, int cols, int classes, float[] images, int[] labels) {
        this(name, rows, cols, classes, images, labels, 1);
    }

    public Dataset {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a dataset needs a non-blank name");
        }
        if (rows <= 0 || cols <= 0 || channels <= 0) {
            throw new InvalidInputException("dataset " + name + ": image shape must be positive, got " + channels + " x " + rows
                    + " x " + cols);
        }
        if (classes <= 0) {
            throw new InvalidInputException("dataset " + name + ": needs at least one class, got " + classes);
        }
        if (images == null || labels == null) {
            throw new IllegalArgumentException("dataset " + name + ": images and labels must not be null");
        }
        long features = (long) channels * rows * cols;
        if (features > Integer.MAX_VALUE) {
            throw new InvalidInputException("dataset " + name + ": images of " + rows + " x " + cols + " pixels are too large");
        }
        if ((long) labels.length * features != images.length) {
            throw new InvalidInputException("dataset " + name + ": " + labels.length + " labels need "
                    + labels.length + " x " + features + " = " + (labels.length * features)
                    + " pixel values, got " + images.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new InvalidInputException("dataset " + name + ": label " + labels[i] + " of image " + i
                        + " is outside [0, " + classes + ")");
            }
        }
        for (int i = 0; i < images.length; i++) {
            float v = images[i];
            if (!(v >= 0f && v <= 1f)) { // also rejects NaN
                throw new InvalidInputException("dataset " + name + ": pixel " + (i % features) + " of image "
                        + (i / features) + " is " + v + ", outside [0, 1]");
            }
        }
    }

    /** Number of images. */
    public int count() {
        return labels.length;
    }

    /** Values per image: {@code channels * rows * cols}. */
    public int features() {
        return channels * rows * cols;
    }

    /** One image's shape, (channels, rows, cols). */
    public dev.cleave.nn.Shape shape() {
        return new dev.cleave.nn.Shape(channels, rows, cols);
    }

    /**
     * A new dataset with the images at {@code indices}, in that order (repeats allowed).
     *
     * @throws IllegalArgumentException if an index is outside [0, count())
     */
    public Dataset subset(int[] indices) {
        int f = features();
        float[] outImages = new float[Math.multiplyExact(indices.length, f)];
        int[] outLabels = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            if (i < 0 || i >= count()) {
                throw new IllegalArgumentException("dataset " + name + ": subset index " + i + " at position " + k
                        + " is outside [0, " + count() + ")");
            }
            System.arraycopy(images, i * f, outImages, k * f, f);
            outLabels[k] = labels[i];
        }
        return new Dataset(name, rows, cols, classes, outImages, outLabels, channels);
    }

    /** {@code classCounts()[c]} = number of images labelled {@code c}; length {@code classes}. */
    public int[] classCounts() {
        int[] counts = new int[classes];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }

    /**
     * A seeded, stratified train/test split: each class is split separately, and the test set
     * gets {@code Math.round(testFraction * n_c)} of the {@code n_c} images of class
     * {@code c}, chosen uniformly at random. The two sets are disjoint, cover every image, and
     * are each in random order (so neither is grouped by class even when this dataset is). The
     * same seed gives the same split; the random stream is {@code Rng.stream(seed, name + "-split")}.
     *
     * @param testFraction in [0, 1]
     * @throws IllegalArgumentException if {@code testFraction} is outside [0, 1]
     */
    public DatasetSplit stratifiedSplit(long seed, double testFraction) {
        if (!(testFraction >= 0 && testFraction <= 1)) {
            throw new IllegalArgumentException("test fraction must be in [0, 1], got " + testFraction);
        }
        SplittableRandom random = Rng.stream(seed, name + "-split");
        int[] counts = classCounts();
        int[][] byClass = new int[classes][];
        for (int c = 0; c < classes; c++) {
            byClass[c] = new int[counts[c]];
        }
        int[] filled = new int[classes];
        for (int i = 0; i < labels.length; i++) {
            byClass[labels[i]][filled[labels[i]]++] = i;
        }
        int testTotal = 0;
        int[] testPerClass = new int[classes];
        for (int c = 0; c < classes; c++) {
            testPerClass[c] = (int) Math.round(testFraction * counts[c]);
            testTotal += testPerClass[c];
        }
        int[] test = new int[testTotal];
        int[] train = new int[count() - testTotal];
        int t = 0;
        int r = 0;
        for (int c = 0; c < classes; c++) {
            int[] members = byClass[c];
            shuffle(members, random);
            System.arraycopy(members, 0, test, t, testPerClass[c]);
            System.arraycopy(members, testPerClass[c], train, r, members.length - testPerClass[c]);
            t += testPerClass[c];
            r += members.length - testPerClass[c];
        }
        shuffle(train, random);
        shuffle(test, random);
        return new DatasetSplit(subset(train), subset(test));
    }

    private static void shuffle(int[] a, SplittableRandom random) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dataset d && d.name.equals(name) && d.rows == rows && d.cols == cols && d.channels == channels
                && d.classes == classes && Arrays.equals(d.labels, labels) && Arrays.equals(d.images, images);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + Arrays.hashCode(labels)) + Arrays.hashCode(images);
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ": " + count() + " images of " + (channels == 1 ? "" : channels + " x ") + rows + " x " + cols + ", " + classes + " classes]";
    }
}
