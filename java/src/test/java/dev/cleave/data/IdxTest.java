package dev.cleave.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class IdxTest {
    @TempDir
    Path dir;

    /** An IDX file from its big-endian ints (magic, dimensions) and data bytes. */
    private Path raw(String name, int[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4 * header.length + data.length);
        for (int v : header) {
            b.putInt(v);
        }
        return Files.write(dir.resolve(name), b.put(data).array());
    }

    @Test
    void imagesAndLabelsRoundTripPlainAndGzipped() throws IOException {
        Idx.Images images = Fixtures.images(11, 7, 5, 3);
        int[] labels = {0, 9, 255, 3, 3, 1, 0};
        for (boolean gzip : new boolean[] {false, true}) {
            Path im = dir.resolve("images-" + gzip);
            Path lab = dir.resolve("labels-" + gzip);
            Idx.writeImages(im, images, gzip);
            Idx.writeLabels(lab, labels, gzip);
            Idx.Images read = Idx.readImages(im);
            assertEquals(7, read.count());
            assertEquals(5, read.rows());
            assertEquals(3, read.cols());
            assertArrayEquals(images.pixels(), read.pixels());
            assertArrayEquals(labels, Idx.readLabels(lab));
        }
    }

    @Test
    void gzipIsDetectedByContentNotByName() throws IOException {
        Path gzipWithoutSuffix = dir.resolve("train-labels-idx1-ubyte");
        Path plainWithSuffix = dir.resolve("t10k-labels-idx1-ubyte.gz");
        Idx.writeLabels(gzipWithoutSuffix, new int[] {1, 2, 3}, true);
        Idx.writeLabels(plainWithSuffix, new int[] {4, 5}, false);
        byte[] head = Arrays.copyOf(Files.readAllBytes(gzipWithoutSuffix), 2);
        assertArrayEquals(new byte[] {0x1f, (byte) 0x8b}, head);
        assertArrayEquals(new int[] {1, 2, 3}, Idx.readLabels(gzipWithoutSuffix));
        assertArrayEquals(new int[] {4, 5}, Idx.readLabels(plainWithSuffix));
    }

    @Test
    void pixelsAreScaledToTheUnitInterval() throws IOException {
        Path file = raw("img", new int[] {Idx.IMAGES_MAGIC, 1, 1, 3}, new byte[] {0, (byte) 128, (byte) 255});
        assertArrayEquals(new float[] {0f, 128 / 255f, 1f}, Idx.readImages(file).pixels());
    }

    @Test
    void readPairBuildsADataset() throws IOException {
        Path im = dir.resolve("im.gz");
        Path lab = dir.resolve("lab.gz");
        Idx.writeImages(im, Fixtures.images(1, 6, 2, 2), true);
        Idx.writeLabels(lab, new int[] {0, 1, 2, 2, 1, 0}, true);
        Dataset d = Idx.readPair(im, lab, "tiny", 3);
        assertEquals("tiny", d.name());
        assertEquals(6, d.count());
        assertEquals(4, d.features());
        assertArrayEquals(new int[] {2, 2, 2}, d.classCounts());
    }

    @Test
    void rejectsAMissingFile() {
        Path missing = dir.resolve("train-images-idx3-ubyte");
        assertInvalid(() -> Idx.readImages(missing), missing.toString(), "no such file", "IDX image file");
    }

    @Test
    void rejectsABadMagicNumberSayingWhatWasExpected() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello, world");
        assertInvalid(() -> Idx.readImages(text), text.toString(), "bad magic number 0x68656C6C",
                "expected 0x00000803 (IDX images: unsigned bytes, 3 dimensions)");
        Path tiny = Files.write(dir.resolve("tiny"), new byte[] {0, 0});
        assertInvalid(() -> Idx.readLabels(tiny), tiny.toString(), "only 2 bytes", "expected magic 0x00000801");
    }

    @Test
    void rejectsSwappedImageAndLabelFiles() throws IOException {
        Path labels = raw("labels", new int[] {Idx.LABELS_MAGIC, 2}, new byte[] {1, 2});
        assertInvalid(() -> Idx.readImages(labels), labels.toString(), "magic number 0x00000801 (IDX labels",
                "expected 0x00000803", "swapped");
        Path images = raw("images", new int[] {Idx.IMAGES_MAGIC, 1, 1, 1}, new byte[] {1});
        assertInvalid(() -> Idx.readLabels(images), images.toString(), "expected 0x00000801", "swapped");
    }

    @Test
    void rejectsUnsupportedDataTypes() throws IOException {
        Path floats = raw("floats", new int[] {0x00000D03, 1, 1, 1}, new byte[4]);
        assertInvalid(() -> Idx.readImages(floats), floats.toString(), "unsupported IDX data type 0x0D (32-bit floats)",
                "unsigned-byte");
    }

    @Test
    void rejectsTruncatedDataAndHeaders() throws IOException {
        Path data = raw("short", new int[] {Idx.IMAGES_MAGIC, 3, 4, 5}, new byte[50]);
        assertInvalid(() -> Idx.readImages(data), data.toString(),
                "truncated: the header promises 3 x 4 x 5 = 60 bytes of data, found 50");
        Path header = raw("header", new int[] {Idx.IMAGES_MAGIC, 3}, new byte[2]);
        assertInvalid(() -> Idx.readImages(header), header.toString(), "truncated header", "need 16 header bytes, found 10");
    }

    @Test
    void rejectsTrailingGarbage() throws IOException {
        Path file = raw("long", new int[] {Idx.LABELS_MAGIC, 4}, new byte[7]);
        assertInvalid(() -> Idx.readLabels(file), file.toString(), "3 bytes of trailing garbage",
                "the header promises 4 bytes of data, found 7");
    }

    @Test
    void rejectsCorruptGzip() throws IOException {
        Path file = dir.resolve("train-images-idx3-ubyte.gz");
        Idx.writeImages(file, Fixtures.images(3, 50, 10, 10), true);
        byte[] gz = Files.readAllBytes(file);

        Files.write(file, Arrays.copyOf(gz, gz.length / 2));
        assertInvalid(() -> Idx.readImages(file), file.toString(), "corrupt gzip data", "re-download");

        byte[] flipped = gz.clone();
        flipped[gz.length / 2] ^= 0x5A;
        Files.write(file, flipped);
        assertInvalid(() -> Idx.readImages(file), file.toString(), "corrupt gzip data");
    }

    @Test
    void rejectsImageAndLabelCountsThatDiffer() throws IOException {
        Path im = dir.resolve("im");
        Path lab = dir.resolve("lab");
        Idx.writeImages(im, Fixtures.images(1, 5, 2, 2), false);
        Idx.writeLabels(lab, new int[] {0, 1, 0, 1}, false);
        assertInvalid(() -> Idx.readPair(im, lab, "tiny", 2), im + " has 5 images but " + lab + " has 4 labels");
    }

    @Test
    void rejectsLabelsBeyondTheClassCount() throws IOException {
        Path im = dir.resolve("im");
        Path lab = dir.resolve("lab");
        Idx.writeImages(im, Fixtures.images(1, 3, 2, 2), false);
        Idx.writeLabels(lab, new int[] {0, 10, 1}, false);
        assertInvalid(() -> Idx.readPair(im, lab, "fashion-mnist", 10), lab.toString(), "label 10 of item 1",
                "outside [0, 10)");
    }

    @Test
    void aSetDeclaringNoImagesIsBadInput() throws IOException {
        Path images = raw("none-images", new int[] {Idx.IMAGES_MAGIC, 0, 28, 28}, new byte[0]);
        Path labels = raw("none-labels", new int[] {Idx.LABELS_MAGIC, 0}, new byte[0]);
        assertInvalid(() -> Idx.readPair(images, labels, "mnist-idx", 10), images + ": the header declares 0 images");
        assertEquals(0, Idx.readImages(images).count(), "the file itself is well formed");
    }
}
