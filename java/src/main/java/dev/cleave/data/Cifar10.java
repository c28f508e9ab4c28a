package dev.cleave.data;

import dev.cleave.io.AtomicFiles;
import dev.cleave.io.InputFiles;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads (and, for tests, writes) CIFAR-10 in its binary form, the "CIFAR-10 binary version" of
 * https://www.cs.toronto.edu/~kriz/cifar.html: a directory (as unpacked from
 * cifar-10-binary.tar.gz, {@code cifar-10-batches-bin/}) with {@code data_batch_1.bin} ..
 * {@code data_batch_5.bin} (the 50,000 training images) and {@code test_batch.bin} (10,000 test
 * images). Each file is a sequence of 3073-byte records: one label byte in [0, 9], then the
 * 3072 pixel bytes of a 32x32 colour image, channel by channel (red, green, blue: CHW), each
 * channel row-major. Pixels are scaled to [0, 1] as {@code b / 255f}, like the IDX reader.
 *
 * <p>Every problem (missing files, a file that is not a whole number of records, an empty
 * file, a label above 9) is an {@link InvalidInputException} that names the file and says what
 * is wrong; missing files are listed together with where they come from.
 */
public final class Cifar10 {
    public static final int CHANNELS = 3, HEIGHT = 32, WIDTH = 32, CLASSES = 10;
    /** Pixel bytes per image: 3 x 32 x 32. */
    public static final int PIXELS = CHANNELS * HEIGHT * WIDTH;
    /** Bytes per record: the label, then the pixels. */
    public static final int RECORD = 1 + PIXELS;
    /** The training files, in the order their images are concatenated. */
    public static final List<String> TRAIN_FILES = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
            "data_batch_4.bin", "data_batch_5.bin");
    public static final String TEST_FILE = "test_batch.bin";
    /** Where the files come from. */
    public static final String SOURCE = "https://www.cs.toronto.edu/~kriz/cifar.html (\"CIFAR-10 binary version\", "
            + "cifar-10-binary.tar.gz; unpack it and pass its cifar-10-batches-bin directory)";

    private static final float[] BYTE_TO_UNIT = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            BYTE_TO_UNIT[i] = i / 255f;
        }
    }

    private Cifar10() {}

    /**
     * Images of one or more CIFAR-10 files: {@code count} images of {@link #PIXELS} values each
     * (CHW, in [0, 1]) and their labels in [0, 9]. The arrays are not copied.
     */
    public record Images(int count, float[] pixels, int[] labels) {
        public Images {
            if (count < 0 || pixels == null || labels == null || (long) count * PIXELS != pixels.length
                    || labels.length != count) {
                throw new IllegalArgumentException(count + " CIFAR-10 images need " + ((long) count * PIXELS)
                        + " pixels and " + count + " labels, got " + (pixels == null ? "null" : pixels.length) + " and "
                        + (labels == null ? "null" : labels.length));
            }
        }
    }

    /** The training set (data_batch_1..5.bin, concatenated in that order) and the test set (test_batch.bin). */
    public record Data(Images train, Images test) {}

    /**
     * Reads the six files of {@code dir}.
     *
     * @throws InvalidInputException listing the missing files and where they come from, or naming
     *                               a malformed file
     */
    public static Data read(Path dir) {
        requireFiles(dir);
        List<Images> parts = new ArrayList<>();
        for (String f : TRAIN_FILES) {
            parts.add(readFile(dir.resolve(f)));
        }
        return new Data(concat(parts), readFile(dir.resolve(TEST_FILE)));
    }

    /** Fails, in one line listing every missing file and where the set comes from, unless all six files are in {@code dir}. */
    public static void requireFiles(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String f : allFiles()) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException("CIFAR-10 is not in " + dir + ": missing " + String.join(", ", missing)
                    + "; it needs " + String.join(", ", allFiles()) + " from " + SOURCE);
        }
    }

    private static List<String> allFiles() {
        List<String> all = new ArrayList<>(TRAIN_FILES);
        all.add(TEST_FILE);
        return all;
    }

    /**
     * Reads one CIFAR-10 binary file.
     *
     * @throws InvalidInputException naming the file if it is missing, unreadable, empty, not a
     *                               whole number of records, or has a label above 9
     */
    public static Images readFile(Path file) {
        InputFiles.requireReadableFile(file, "a CIFAR-10 binary file");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        }
        if (bytes.length == 0) {
            throw new InvalidInputException(file + ": empty, expected CIFAR-10 records of " + RECORD
                    + " bytes (1 label byte + 3072 pixel bytes)");
        }
        if (bytes.length % RECORD != 0) {
            throw new InvalidInputException(file + ": truncated record: " + bytes.length + " bytes is " + bytes.length / RECORD
                    + " whole records of " + RECORD + " bytes and " + bytes.length % RECORD
                    + " more: the file is damaged or cut short (or not the binary version of CIFAR-10); re-download it from "
                    + SOURCE);
        }
        int count = bytes.length / RECORD;
        int[] labels = new int[count];
        float[] pixels = new float[count * PIXELS];
        for (int i = 0; i < count; i++) {
            int label = bytes[i * RECORD] & 0xFF;
            if (label >= CLASSES) {
                throw new InvalidInputException(file + ": label " + label + " of record " + i + " (byte offset "
                        + (long) i * RECORD + ") is outside [0, " + CLASSES + "): not a CIFAR-10 binary file (CIFAR-100's"
                        + " records are 3074 bytes), or a damaged one");
            }
            labels[i] = label;
            int from = i * RECORD + 1, to = i * PIXELS;
            for (int p = 0; p < PIXELS; p++) {
                pixels[to + p] = BYTE_TO_UNIT[bytes[from + p] & 0xFF];
            }
        }
        return new Images(count, pixels, labels);
    }

    /**
     * Writes {@code images} as one CIFAR-10 binary file (atomically); each pixel {@code v} in
     * [0, 1] is stored as the byte {@code round(255 v)}.
     *
     * @throws IllegalArgumentException if a pixel is outside [0, 1] or a label outside [0, 9]
     */
    public static void writeFile(Path file, Images images) throws IOException {
        byte[] data = new byte[images.count() * RECORD];
        for (int i = 0; i < images.count(); i++) {
            int label = images.labels()[i];
            if (label < 0 || label >= CLASSES) {
                throw new IllegalArgumentException("label " + label + " of image " + i + " is outside [0, " + CLASSES + ")");
            }
            data[i * RECORD] = (byte) label;
            for (int p = 0; p < PIXELS; p++) {
                float v = images.pixels()[i * PIXELS + p];
                if (!(v >= 0f && v <= 1f)) {
                    throw new IllegalArgumentException("pixel " + p + " of image " + i + " is " + v + ", outside [0, 1]");
                }
                data[i * RECORD + 1 + p] = (byte) Math.round(v * 255f);
            }
        }
        AtomicFiles.write(file, out -> out.write(data));
    }

    private static Images concat(List<Images> parts) {
        int count = 0;
        for (Images p : parts) {
            count = Math.addExact(count, p.count());
        }
        float[] pixels = new float[Math.multiplyExact(count, PIXELS)];
        int[] labels = new int[count];
        int at = 0;
        for (Images p : parts) {
            System.arraycopy(p.pixels(), 0, pixels, at * PIXELS, p.count() * PIXELS);
            System.arraycopy(p.labels(), 0, labels, at, p.count());
            at += p.count();
        }
        return new Images(count, pixels, labels);
    }
}
