package dev.cleave.data;

import dev.cleave.io.AtomicFiles;
import dev.cleave.io.InputFiles;
import dev.cleave.util.InvalidInputException;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads and writes IDX files, the format of MNIST and Fashion-MNIST
 * (train-images-idx3-ubyte, train-labels-idx1-ubyte, ...), plain or gzipped.
 *
 * <p>An IDX file is a big-endian header, then the data: a 4-byte magic number
 * {@code 00 00 TYPE NDIMS}, NDIMS 4-byte dimension sizes, then the product of the dimensions
 * items of TYPE, row-major. Cleave reads unsigned-byte files (TYPE 0x08): images with magic
 * 0x00000803 (count x rows x cols) and labels with magic
 * 0x00000801 (count). Gzip is detected from the content (bytes 1f 8b), not from
 * the file name.
 *
 * <p>Every problem with a file (missing, bad magic, unsupported type, truncated, trailing
 * bytes, corrupt gzip, image and label counts that differ, no images at all in {@link #readPair}, a label out
 * of range) is an
 * {@link InvalidInputException} that names the file and says what is wrong.
 */
public final class Idx {
    /** Magic number of an IDX image file: unsigned bytes, 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an IDX label file: unsigned bytes, 1 dimension. */
    public static final int LABELS_MAGIC = 0x00000801;

    private static final int UBYTE = 0x08;
    private static final int BUFFER_BYTES = 1 << 16;
    private static final float[] BYTE_TO_UNIT = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            BYTE_TO_UNIT[i] = i / 255f;
        }
    }

    private Idx() {}

    /**
     * Images as read from (or to be written to) an IDX image file: {@code count} images of
     * {@code rows x cols} pixels, row-major, each pixel byte {@code b} scaled to {@code b / 255f}.
     * The array is not copied.
     */
    public record Images(int count, int rows, int cols, float[] pixels) {
        public Images {
            if (count < 0 || rows <= 0 || cols <= 0) {
                throw new IllegalArgumentException("IDX images need count >= 0 and positive rows and cols, got "
                        + count + " x " + rows + " x " + cols);
            }
            if (pixels == null || (long) count * rows * cols != pixels.length) {
                throw new IllegalArgumentException(count + " images of " + rows + " x " + cols + " need "
                        + ((long) count * rows * cols) + " pixels, got " + (pixels == null ? "null" : pixels.length));
            }
        }
    }

    /**
     * Reads an IDX image file (magic 0x00000803).
     *
     * @throws InvalidInputException naming the file if it is missing, unreadable or malformed
     */
    public static Images readImages(Path file) {
        byte[] bytes = readContent(file, "an IDX image file");
        int[] dims = parseHeader(file, bytes, IMAGES_MAGIC);
        int count = dims[0];
        int rows = dims[1];
        int cols = dims[2];
        if (rows == 0 || cols == 0) {
            throw new InvalidInputException(file + ": images of " + rows + " x " + cols + " pixels: the header is corrupt");
        }
        int offset = headerBytes(dims.length);
        float[] pixels = new float[bytes.length - offset];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = BYTE_TO_UNIT[bytes[offset + i] & 0xFF];
        }
        return new Images(count, rows, cols, pixels);
    }

    /**
     * Reads an IDX label file (magic 0x00000801); labels are in [0, 255].
     *
     * @throws InvalidInputException naming the file if it is missing, unreadable or malformed
     */
    public static int[] readLabels(Path file) {
        byte[] bytes = readContent(file, "an IDX label file");
        int[] dims = parseHeader(file, bytes, LABELS_MAGIC);
        int offset = headerBytes(dims.length);
        int[] labels = new int[dims[0]];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = bytes[offset + i] & 0xFF;
        }
        return labels;
    }

    /**
     * Reads an image file and its label file into one dataset.
     *
     * @param name    the dataset's name, e.g. "fashion-mnist"
     * @param classes number of classes; every label must be below it
     * @throws InvalidInputException naming the file, if either is malformed, if their counts
     *                               differ, or if a label is {@code >= classes}
     */
    public static Dataset readPair(Path images, Path labels, String name, int classes) {
        Images im = readImages(images);
        int[] lab = readLabels(labels);
        if (im.count() == 0) {
            throw new InvalidInputException(images + ": the header declares 0 images: a data set needs at least one image "
                    + "in each split; the file is truncated at the source or not the right one");
        }
        if (im.count() != lab.length) {
            throw new InvalidInputException(images + " has " + im.count() + " images but " + labels + " has "
                    + lab.length + " labels: the two files must come from the same set (train with train, t10k with t10k)");
        }
        for (int i = 0; i < lab.length; i++) {
            if (lab[i] >= classes) {
                throw new InvalidInputException(labels + ": label " + lab[i] + " of item " + i + " is outside [0, "
                        + classes + ") for " + name + " (" + classes + " classes): wrong label file?");
            }
        }
        return new Dataset(name, im.rows(), im.cols(), classes, im.pixels(), lab);
    }

    /**
     * Writes an IDX image file (atomically); each pixel {@code v} in [0, 1] is stored as the
     * byte {@code round(255 v)}.
     *
     * @param gzip whether to gzip the file
     * @throws IllegalArgumentException if a pixel is outside [0, 1]
     */
    public static void writeImages(Path file, Images images, boolean gzip) throws IOException {
        float[] pixels = images.pixels();
        byte[] data = new byte[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            float v = pixels[i];
            if (!(v >= 0f && v <= 1f)) {
                throw new IllegalArgumentException("pixel " + i + " is " + v + ", outside [0, 1]");
            }
            data[i] = (byte) Math.round(v * 255f);
        }
        write(file, IMAGES_MAGIC, new int[] {images.count(), images.rows(), images.cols()}, data, gzip);
    }

    /**
     * Writes an IDX label file (atomically).
     *
     * @throws IllegalArgumentException if a label is outside [0, 255]
     */
    public static void writeLabels(Path file, int[] labels, boolean gzip) throws IOException {
        byte[] data = new byte[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] > 255) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " does not fit an unsigned byte");
            }
            data[i] = (byte) labels[i];
        }
        write(file, LABELS_MAGIC, new int[] {labels.length}, data, gzip);
    }

    private static void write(Path file, int magic, int[] dims, byte[] data, boolean gzip) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(headerBytes(dims.length)); // big-endian, as IDX wants
        header.putInt(magic);
        for (int d : dims) {
            header.putInt(d);
        }
        AtomicFiles.write(file, out -> {
            OutputStream target = gzip ? new GZIPOutputStream(out, BUFFER_BYTES) : out;
            target.write(header.array());
            target.write(data);
            if (target instanceof GZIPOutputStream gz) {
                gz.finish();
            }
        });
    }

    private static int headerBytes(int ndims) {
        return 4 + 4 * ndims;
    }

    /** The file's bytes, gunzipped if they start with the gzip magic 1f 8b. */
    private static byte[] readContent(Path file, String what) {
        InputFiles.requireReadableFile(file, what);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), BUFFER_BYTES)) {
            in.mark(2);
            boolean gzipped = in.read() == 0x1f && in.read() == 0x8b;
            in.reset();
            if (!gzipped) {
                return in.readAllBytes();
            }
            try (GZIPInputStream gz = new GZIPInputStream(in, BUFFER_BYTES)) {
                return gz.readAllBytes();
            } catch (ZipException | EOFException e) {
                throw new InvalidInputException(file + ": corrupt gzip data (" + e.getMessage()
                        + "): the file is damaged or cut short; re-download or re-install it", e);
            }
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        }
    }

    /**
     * Checks the header against {@code expectedMagic} and the data length against the
     * dimensions; returns the dimensions.
     */
    private static int[] parseHeader(Path file, byte[] bytes, int expectedMagic) {
        String expected = String.format("0x%08X (%s)", expectedMagic, describe(expectedMagic));
        if (bytes.length < 4) {
            throw new InvalidInputException(file + ": only " + bytes.length + " bytes, too short for an IDX file; expected magic "
                    + expected);
        }
        int magic = bigEndianInt(bytes, 0);
        int type = (magic >>> 8) & 0xFF;
        int ndims = magic & 0xFF;
        int expectedDims = expectedMagic & 0xFF;
        if (magic != expectedMagic) {
            String found = String.format("0x%08X", magic);
            if ((magic >>> 16) != 0 || typeName(type) == null) {
                throw new InvalidInputException(file + ": bad magic number " + found + ", expected " + expected
                        + ": not an IDX file of this kind");
            }
            if (type != UBYTE) {
                throw new InvalidInputException(file + ": unsupported IDX data type 0x" + String.format("%02X", type) + " ("
                        + typeName(type) + "); Cleave reads unsigned-byte IDX files only (magic " + expected + ")");
            }
            throw new InvalidInputException(file + ": magic number " + found + " (" + describe(magic) + "), expected "
                    + expected + (magic == IMAGES_MAGIC || magic == LABELS_MAGIC
                    ? ": are the image and label files swapped?" : ""));
        }
        int offset = headerBytes(ndims);
        if (bytes.length < offset) {
            throw new InvalidInputException(file + ": truncated header: " + expectedDims + " dimensions need "
                    + offset + " header bytes, found " + bytes.length);
        }
        int[] dims = new int[ndims];
        long items = 1;
        StringBuilder shape = new StringBuilder();
        for (int d = 0; d < ndims; d++) {
            dims[d] = bigEndianInt(bytes, 4 + 4 * d);
            if (dims[d] < 0) {
                throw new InvalidInputException(file + ": dimension " + d + " is " + Integer.toUnsignedString(dims[d])
                        + ", too large: the header is corrupt");
            }
            items *= dims[d];
            if (items > Integer.MAX_VALUE - offset) {
                throw new InvalidInputException(file + ": the header promises more than 2^31 bytes of data: corrupt or unsupported");
            }
            shape.append(d == 0 ? "" : " x ").append(dims[d]);
        }
        long found = bytes.length - offset;
        String promise = "the header promises " + shape + (ndims > 1 ? " = " + items : "") + " bytes of data";
        if (found < items) {
            throw new InvalidInputException(file + ": truncated: " + promise + ", found " + found
                    + ": the file is cut short; re-download or re-install it");
        }
        if (found > items) {
            throw new InvalidInputException(file + ": " + (found - items) + " bytes of trailing garbage: " + promise
                    + ", found " + found + ": the file is corrupt or not an IDX file");
        }
        return dims;
    }

    private static String describe(int magic) {
        String type = typeName((magic >>> 8) & 0xFF);
        int ndims = magic & 0xFF;
        return switch (magic) {
            case IMAGES_MAGIC -> "IDX images: unsigned bytes, 3 dimensions";
            case LABELS_MAGIC -> "IDX labels: unsigned bytes, 1 dimension";
            default -> "IDX " + type + ", " + ndims + " dimension" + (ndims == 1 ? "" : "s");
        };
    }

    /** The IDX element types, or null for a code that is not one. */
    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned bytes";
            case 0x09 -> "signed bytes";
            case 0x0B -> "16-bit integers";
            case 0x0C -> "32-bit integers";
            case 0x0D -> "32-bit floats";
            case 0x0E -> "64-bit floats";
            default -> null;
        };
    }

    private static int bigEndianInt(byte[] b, int offset) {
        return ((b[offset] & 0xFF) << 24) | ((b[offset + 1] & 0xFF) << 16) | ((b[offset + 2] & 0xFF) << 8) | (b[offset + 3] & 0xFF);
    }
}
