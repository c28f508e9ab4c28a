package dev.cleave.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CIFAR-10 binary reader on files the tests write: good ones, missing ones, bad ones and fuzzed ones. */
class Cifar10Test {
    @TempDir
    Path dir;

    /** count images with seeded pixel bytes and labels; pixels are multiples of 1/255 so that they round-trip. */
    private static Cifar10.Images images(Random r, int count) {
        float[] pixels = new float[count * Cifar10.PIXELS];
        int[] labels = new int[count];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = r.nextInt(256) / 255f;
        }
        for (int i = 0; i < count; i++) {
            labels[i] = r.nextInt(10);
        }
        return new Cifar10.Images(count, pixels, labels);
    }

    private void writeAll(Random r, int perFile) throws IOException {
        for (String f : Cifar10.TRAIN_FILES) {
            Cifar10.writeFile(dir.resolve(f), images(r, perFile));
        }
        Cifar10.writeFile(dir.resolve(Cifar10.TEST_FILE), images(r, perFile + 1));
    }

    @Test
    void readsTheSixFilesInOrderWithPixelsScaledLikeIdx() throws IOException {
        Random r = new Random(1);
        Cifar10.Images[] train = new Cifar10.Images[5];
        for (int i = 0; i < 5; i++) {
            train[i] = images(r, 2 + i);
            Cifar10.writeFile(dir.resolve(Cifar10.TRAIN_FILES.get(i)), train[i]);
        }
        Cifar10.Images test = images(r, 3);
        Cifar10.writeFile(dir.resolve(Cifar10.TEST_FILE), test);
        Cifar10.Data d = Cifar10.read(dir);
        assertEquals(2 + 3 + 4 + 5 + 6, d.train().count());
        assertEquals(3, d.test().count());
        assertArrayEquals(test.pixels(), d.test().pixels());
        assertArrayEquals(test.labels(), d.test().labels());
        // The fourth file's first image starts after 2 + 3 + 4 images.
        assertEquals(train[3].labels()[0], d.train().labels()[9]);
        assertArrayEquals(Arrays.copyOfRange(train[3].pixels(), 0, Cifar10.PIXELS),
                Arrays.copyOfRange(d.train().pixels(), 9 * Cifar10.PIXELS, 10 * Cifar10.PIXELS));
    }

    /** A record laid out by hand: label byte, then red, green and blue planes, row-major. */
    @Test
    void aRecordIsTheLabelThenChwPixels() throws IOException {
        byte[] rec = new byte[Cifar10.RECORD];
        rec[0] = 7;
        rec[1] = (byte) 255;                   // red (0, 0)
        rec[1 + 32 + 1] = (byte) 51;           // red (1, 1)
        rec[1 + 1024 + 2] = (byte) 102;        // green (0, 2)
        rec[1 + 2048 + 31 * 32 + 31] = (byte) 204;  // blue (31, 31)
        Path f = dir.resolve("one.bin");
        Files.write(f, rec);
        Cifar10.Images im = Cifar10.readFile(f);
        assertEquals(1, im.count());
        assertEquals(7, im.labels()[0]);
        assertEquals(1f, im.pixels()[0]);
        assertEquals(0.2f, im.pixels()[33]);
        assertEquals(0.4f, im.pixels()[1024 + 2]);
        assertEquals(0.8f, im.pixels()[3071]);
        assertEquals(0f, im.pixels()[1]);
    }

    @Test
    void missingFilesAreListedWithWhereTheyComeFrom() throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.read(dir));
        assertTrue(e.getMessage().contains("missing data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, "
                + "data_batch_5.bin, test_batch.bin") && e.getMessage().contains("https://www.cs.toronto.edu/~kriz/cifar.html")
                && !e.getMessage().contains("\n"), e.getMessage());
        writeAll(new Random(2), 1);
        Files.delete(dir.resolve("data_batch_3.bin"));
        e = assertThrows(InvalidInputException.class, () -> Cifar10.read(dir));
        assertTrue(e.getMessage().contains("missing data_batch_3.bin;"), e.getMessage());
    }

    @Test
    void badFilesGetClearErrors() throws IOException {
        Path f = dir.resolve("bad.bin");
        Cifar10.writeFile(f, images(new Random(3), 2));
        byte[] good = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(good, good.length - 5));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Cifar10.readFile(f));
        assertTrue(e.getMessage().contains("truncated record: 6141 bytes is 1 whole records of 3073 bytes and 3068 more"),
                e.getMessage());
        byte[] badLabel = good.clone();
        badLabel[Cifar10.RECORD] = 10;
        Files.write(f, badLabel);
        e = assertThrows(InvalidInputException.class, () -> Cifar10.readFile(f));
        assertTrue(e.getMessage().contains("label 10 of record 1 (byte offset 3073) is outside [0, 10)"), e.getMessage());
        Files.write(f, new byte[0]);
        e = assertThrows(InvalidInputException.class, () -> Cifar10.readFile(f));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> Cifar10.readFile(dir.resolve("nope.bin")));
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
    }

    /**
     * Seeded random mutations of a valid three-record file (byte flips, random label bytes,
     * truncation, extension, splices): every outcome is a valid result or an
     * InvalidInputException, never another exception, within a generous time bound.
     */
    @Test
    void fuzzedFilesAreReadOrRejectedCleanly() throws IOException {
        Path f = dir.resolve("fuzz.bin");
        Cifar10.writeFile(f, images(new Random(4), 3));
        byte[] good = Files.readAllBytes(f);
        int[] outcomes = new int[2];  // read, rejected
        int mutations = 1500;
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Random r = new Random(5);
            for (int m = 0; m < mutations; m++) {
                byte[] b = mutate(r, good);
                Files.write(f, b);
                try {
                    Cifar10.Images im = Cifar10.readFile(f);
                    assertEquals(b.length / Cifar10.RECORD, im.count());
                    for (int i = 0; i < im.count(); i++) {
                        assertEquals(b[i * Cifar10.RECORD] & 0xFF, im.labels()[i]);
                    }
                    for (float v : im.pixels()) {
                        assertTrue(v >= 0f && v <= 1f);
                    }
                    outcomes[0]++;
                } catch (InvalidInputException e) {
                    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
                    outcomes[1]++;
                }
            }
        });
        assertEquals(mutations, outcomes[0] + outcomes[1]);
        assertTrue(outcomes[0] > 100 && outcomes[1] > 100, "read " + outcomes[0] + ", rejected " + outcomes[1]);
    }

    private static byte[] mutate(Random r, byte[] good) {
        byte[] b = good.clone();
        switch (r.nextInt(5)) {
            case 0 -> {  // flip a few bytes anywhere
                for (int k = 0, n = 1 + r.nextInt(8); k < n; k++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> b[Cifar10.RECORD * r.nextInt(3)] = (byte) r.nextInt(256);  // a random label byte
            case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1));  // truncate
            case 3 -> {  // extend with random bytes
                byte[] tail = new byte[1 + r.nextInt(2 * Cifar10.RECORD)];
                r.nextBytes(tail);
                byte[] e = Arrays.copyOf(b, b.length + tail.length);
                System.arraycopy(tail, 0, e, b.length, tail.length);
                b = e;
            }
            default -> {  // drop a slice from the middle
                int from = r.nextInt(b.length), len = r.nextInt(b.length - from + 1);
                byte[] e = new byte[b.length - len];
                System.arraycopy(b, 0, e, 0, from);
                System.arraycopy(b, from + len, e, from, b.length - from - len);
                b = e;
            }
        }
        return b;
    }
}
