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
    /** Deflate expands its input at most about 1032-fold; a little more for the bound. */
    private static final long MAX_DEFLATE_RATIO = 1040;
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
        float[][] pixels = new float[1][];
        int[] dims = read(file, "an IDX image file", IMAGES_MAGIC, d -> {
            if (d[1] == 0 || d[2] == 0) {
                throw new InvalidInputException(file + ": images of " + d[1] + " x " + d[2] + " pixels: the header is corrupt");
            }
            float[] out = new float[d[0] * d[1] * d[2]];
            pixels[0] = out;
            return (buf, len, at) -> {
                for (int i = 0; i < len; i++) {
                    out[at + i] = BYTE_TO_UNIT[buf[i] & 0xFF];
                }
            };
        });
        return new Images(dims[0], dims[1], dims[2], pixels[0]);
    }

    /**
     * Reads an IDX label file (magic 0x00000801); labels are in [0, 255].
     *
     * @throws InvalidInputException naming the file if it is missing, unreadable or malformed
     */
    public static int[] readLabels(Path file) {
        int[][] labels = new int[1][];
        read(file, "an IDX label file", LABELS_MAGIC, d -> {
            int[] out = new int[d[0]];
            labels[0] = out;
            return (buf, len, at) -> {
                for (int i = 0; i < len; i++) {
                    out[at + i] = buf[i] & 0xFF;
                }
            };
        });
        return labels[0];
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

    /** Receives the data bytes {@code buf[0 .. len)} of items {@code at .. at+len)}. */
    private interface DataSink {
        void accept(byte[] buf, int len, int at);
    }

    /**
     * Streams an IDX file, gunzipped if it starts with the gzip magic 1f 8b: checks the header
     * against {@code expectedMagic}, asks {@code sinkFor} for a sink for the dimensions, feeds it
     * the data chunk by chunk (no copy of the whole file is held), then checks the data length
     * against the dimensions; returns the dimensions.
     */
    private static int[] read(Path file, String what, int expectedMagic, java.util.function.Function<int[], DataSink> sinkFor) {
        InputFiles.requireReadableFile(file, what);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER_BYTES)) {
            raw.mark(2);
            boolean gzipped = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzipped ? new GZIPInputStream(raw, BUFFER_BYTES) : raw;
            try {
                byte[] head = new byte[headerBytes(expectedMagic & 0xFF)];
                int got = readFully(in, head, 0, 4);
                checkMagic(file, head, got, expectedMagic);
                got += readFully(in, head, 4, head.length - 4);
                int[] dims = parseDims(file, head, got);
                long items = 1;
                for (int d : dims) {
                    items *= d;
                }
                // A header may promise more data than the file can hold: then only count the bytes, for the error.
                long size = Files.size(file);
                long room = gzipped ? MAX_DEFLATE_RATIO * size : size - head.length;
                DataSink sink = items > room ? (b, n, at) -> { } : sinkFor.apply(dims);
                byte[] buf = new byte[BUFFER_BYTES];
                long found = 0;
                for (int n; (n = in.read(buf, 0, buf.length)) > 0; found += n) {
                    if (found < items) {
                        sink.accept(buf, (int) Math.min(n, items - found), (int) found);
                    }
                }
                checkLength(file, dims, items, found);
                return dims;
            } catch (ZipException | EOFException e) {
                throw new InvalidInputException(file + ": corrupt gzip data (" + e.getMessage()
                        + "): the file is damaged or cut short; re-download or re-install it", e);
            }
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        }
    }

    /** Reads up to {@code len} bytes into {@code b[off ..)}, fewer only at the end of the stream; returns the count. */
    private static int readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        int total = 0;
        for (int n; total < len && (n = in.read(b, off + total, len - total)) > 0; ) {
            total += n;
        }
        return total;
    }

    /** Checks the magic number of a file whose first {@code got} bytes (fewer than 4: the whole file) are in {@code head}. */
    private static void checkMagic(Path file, byte[] head, int got, int expectedMagic) {
        String expected = String.format("0x%08X (%s)", expectedMagic, describe(expectedMagic));
        if (got < 4) {
            throw new InvalidInputException(file + ": only " + got + " bytes, too short for an IDX file; expected magic "
                    + expected);
        }
        int magic = bigEndianInt(head, 0);
        int type = (magic >>> 8) & 0xFF;
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
    }

    /** The dimensions from a header of which {@code got} bytes were read (fewer than its length: the whole file). */
    private static int[] parseDims(Path file, byte[] head, int got) {
        int ndims = (head.length - 4) / 4;
        if (got < head.length) {
            throw new InvalidInputException(file + ": truncated header: " + ndims + " dimensions need "
                    + head.length + " header bytes, found " + got);
        }
        int[] dims = new int[ndims];
        long items = 1;
        for (int d = 0; d < ndims; d++) {
            dims[d] = bigEndianInt(head, 4 + 4 * d);
            if (dims[d] < 0) {
                throw new InvalidInputException(file + ": dimension " + d + " is " + Integer.toUnsignedString(dims[d])
                        + ", too large: the header is corrupt");
            }
            items *= dims[d];
            if (items > Integer.MAX_VALUE - head.length) {
                throw new InvalidInputException(file + ": the header promises more than 2^31 bytes of data: corrupt or unsupported");
            }
        }
        return dims;
    }

    /** Checks that the file held exactly the {@code items} data bytes its header promises. */
    private static void checkLength(Path file, int[] dims, long items, long found) {
        StringBuilder shape = new StringBuilder();
        for (int d = 0; d < dims.length; d++) {
            shape.append(d == 0 ? "" : " x ").append(dims[d]);
        }
        String promise = "the header promises " + shape + (dims.length > 1 ? " = " + items : "") + " bytes of data";
        if (found < items) {
            throw new InvalidInputException(file + ": truncated: " + promise + ", found " + found
                    + ": the file is cut short; re-download or re-install it");
        }
        if (found > items) {
            throw new InvalidInputException(file + ": " + (found - items) + " bytes of trailing garbage: " + promise
                    + ", found " + found + ": the file is corrupt or not an IDX file");
        }
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
