package dev.cleave.io;

import dev.cleave.io.Safetensors.DType;
import dev.cleave.io.Safetensors.Tensor;
import dev.cleave.util.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SafetensorsTest {
    @TempDir
    Path dir;

    /** A file made of the given 8-byte length, header text and data bytes. */
    private Path raw(long headerLength, String header, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
        out.write(header.getBytes(StandardCharsets.UTF_8));
        out.write(data);
        return Files.write(dir.resolve("t.safetensors"), out.toByteArray());
    }

    private Path raw(String header, byte[] data) throws IOException {
        return raw(header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    @Test
    void roundTripKeepsEveryDtypeShapeOrderAndMetadata() throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        float[] w = new float[12];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian();
        }
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("layers.1.weight", Tensor.of(new FloatMatrix(3, 4, w)));
        tensors.put("layers.0.bias", Tensor.ofFloats(new long[] {3}, new float[] {-1.5f, 0f, Float.NaN}));
        tensors.put("loss", Tensor.ofDoubles(new long[] {}, new double[] {0.125}));
        tensors.put("clusters", Tensor.ofInts(new long[] {2, 2}, new int[] {0, -1, Integer.MAX_VALUE, 3}));
        tensors.put("step", Tensor.ofLongs(new long[] {1}, new long[] {Long.MIN_VALUE}));
        tensors.put("mask", Tensor.ofBytes(new long[] {4}, new byte[] {0, 1, (byte) 255, 7}));
        tensors.put("empty", Tensor.ofFloats(new long[] {0, 5}, new float[0]));
        tensors.put("half", Tensor.of(DType.BF16, new long[] {2}, new byte[] {(byte) 0x80, 0x3f, 0, 0x40}));
        Map<String, String> metadata = Map.of("seed", "42", "format", "pt", "note", "ünïcode \"quoted\"");
        Path file = dir.resolve("model.safetensors");

        Safetensors.write(file, tensors, metadata);
        SafetensorsFile read = Safetensors.read(file);

        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(read.tensors().keySet()));
        assertEquals(tensors, read.tensors());
        assertEquals(metadata, read.metadata());
        assertEquals(new FloatMatrix(3, 4, w), read.tensor("layers.1.weight").asMatrix());
        assertArrayEquals(new int[] {0, -1, Integer.MAX_VALUE, 3}, read.tensor("clusters").asInts());
        assertArrayEquals(new long[] {Long.MIN_VALUE}, read.tensor("step").asLongs());
        assertArrayEquals(new double[] {0.125}, read.tensor("loss").asDoubles());
        assertArrayEquals(new long[] {}, read.tensor("loss").shape());
        assertArrayEquals(new byte[] {0, 1, (byte) 255, 7}, read.tensor("mask").asBytes());
        assertArrayEquals(new float[] {-1.5f, 0f, Float.NaN}, read.tensor("layers.0.bias").asFloats());
        assertEquals(0, read.tensor("empty").byteSize());
    }

    @Test
    void writtenFileHasTheSpecifiedByteLayout() throws IOException {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b", Tensor.ofFloats(new long[] {2}, new float[] {1f, 2f}));
        tensors.put("a", Tensor.ofBytes(new long[] {1, 3}, new byte[] {9, 8, 7}));
        Path file = dir.resolve("layout.safetensors");
        Safetensors.write(file, tensors, Map.of("z", "1", "k", "v"));

        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String expectedJson = "{\"__metadata__\":{\"k\":\"v\",\"z\":\"1\"},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"a\":{\"dtype\":\"U8\",\"shape\":[1,3],\"data_offsets\":[8,11]}}";
        int padded = (expectedJson.length() + 7) / 8 * 8;
        assertEquals(padded, n, "the header length is the padded JSON length");
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals(expectedJson + " ".repeat(padded - expectedJson.length()), header);
        byte[] data = Arrays.copyOfRange(bytes, 8 + (int) n, bytes.length);
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40, 9, 8, 7}, data);
    }

    @Test
    void readsAHandAssembledFileWhoseHeaderOrderDiffersFromDataOrder() throws IOException {
        // As the specification describes it: no padding, metadata last, "x" stored after "w".
        String header = "{\"x\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[16,24]},"
                + "\"w\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"__metadata__\":{\"format\":\"pt\"}}";
        ByteBuffer data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(1).putInt(2).putInt(3).putInt(-4).putLong(1L << 40);
        SafetensorsFile read = Safetensors.read(raw(header, data.array()));

        assertEquals(List.of("x", "w"), List.copyOf(read.tensors().keySet()));
        assertArrayEquals(new int[] {1, 2, 3, -4}, read.tensor("w").asInts());
        assertArrayEquals(new long[] {2, 2}, read.tensor("w").shape());
        assertArrayEquals(new long[] {1L << 40}, read.tensor("x").asLongs());
        assertEquals(Map.of("format", "pt"), read.metadata());
    }

    @Test
    void accessorsNameTheFileAndTensorOnAWrongDtypeOrRank() throws IOException {
        Path file = raw("{\"ids\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", new byte[16]);
        SafetensorsFile read = Safetensors.read(file);
        assertInvalid(() -> read.tensor("ids").asFloats(), file + ": tensor 'ids'", "is I32 [2]", "asFloats() needs F32");
        assertInvalid(() -> read.tensor("ids").asMatrix(), file + ": tensor 'ids'", "a matrix needs a 2-D F32 tensor");
        assertInvalid(() -> read.tensor("v").asMatrix(), "tensor 'v'", "is F32 [2]", "2-D");
        assertInvalid(() -> read.tensor("weight"), file.toString(), "no tensor 'weight'", "the file has: ids, v");
    }

    @Test
    void writeRejectsReservedAndEmptyNames() {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put(Safetensors.METADATA_KEY, Tensor.ofInts(new long[] {1}, new int[] {1}));
        Path file = dir.resolve("bad.safetensors");
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file, tensors, null));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloats(new long[] {2, 2}, new float[3]));
        assertEquals(false, Files.exists(file));
    }

    @Test
    void rejectsMissingAndTooShortFiles() throws IOException {
        Path missing = dir.resolve("nope.safetensors");
        assertInvalid(() -> Safetensors.read(missing), missing.toString(), "no such file");
        Path tiny = Files.write(dir.resolve("tiny.safetensors"), new byte[5]);
        assertInvalid(() -> Safetensors.read(tiny), tiny.toString(), "only 5 bytes", "8-byte header length");
    }

    @Test
    void rejectsAbsurdOrOverlongHeaderLengths() throws IOException {
        assertInvalid(() -> Safetensors.read(raw(200_000_000L, "{}", new byte[0])), "header length 200000000 is absurd");
        assertInvalid(() -> Safetensors.read(raw(-1L, "{}", new byte[0])), "header length 18446744073709551615 is absurd");
        assertInvalid(() -> Safetensors.read(raw(100, "{}", new byte[0])), "header length 100 is larger than the 2 bytes");
    }

    @Test
    void rejectsHeadersThatAreNotAJsonObject() throws IOException {
        assertInvalid(() -> Safetensors.read(raw("{\"a\": nope}", new byte[0])), "t.safetensors", "not valid JSON");
        assertInvalid(() -> Safetensors.read(raw("[1, 2]", new byte[0])), "not a JSON object");
        assertInvalid(() -> Safetensors.read(raw("{} {}", new byte[0])), "unexpected content after");
        ByteBuffer bad = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(4)
                .put(new byte[] {'{', (byte) 0xC3, '}', ' '});
        Path file = Files.write(dir.resolve("utf.safetensors"), bad.array());
        assertInvalid(() -> Safetensors.read(file), "utf.safetensors", "not valid UTF-8");
    }

    @Test
    void rejectsBadTensorEntries() throws IOException {
        byte[] eight = new byte[8];
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", eight)),
                "tensor 'a'", "unknown dtype \"F33\"", "known dtypes are");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", eight)), "no dtype");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", eight)),
                "tensor 'a'", "negative dimension");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", eight)),
                "shape [2.5]", "an array of integers");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", eight)),
                "data_offsets [0]", "expected [begin, end]");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", eight)),
                "need 0 <= begin <= end");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", eight)),
                "tensor 'a'", "spanning 4 bytes", "F32 [2] needs 8");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", eight)),
                "tensor 'a'", "beyond the data buffer's 8 bytes");
        assertInvalid(() -> Safetensors.read(raw("{\"a\":[1,2]}", eight)), "tensor 'a' must be an object");
    }

    @Test
    void rejectsOverlapsGapsAndUncoveredBytes() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        assertInvalid(() -> Safetensors.read(raw("{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                new byte[12])), "tensors 'a' [0, 8) and 'b' [4, 12) overlap");
        assertInvalid(() -> Safetensors.read(raw("{" + a + ",\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[10,12]}}",
                new byte[12])), "bytes [8, 10) of the data buffer belong to no tensor");
        assertInvalid(() -> Safetensors.read(raw("{" + a + "}", new byte[11])),
                "the last 3 bytes of the data buffer (bytes [8, 11)) belong to no tensor");
        assertInvalid(() -> Safetensors.read(raw("{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}",
                new byte[4])), "bytes [0, 2) of the data buffer belong to no tensor");
    }

    @Test
    void rejectsBadMetadataAndDuplicateNames() throws IOException {
        assertInvalid(() -> Safetensors.read(raw("{\"__metadata__\":{\"epochs\":3}}", new byte[0])),
                "__metadata__ value for key 'epochs' is NUMBER 3, not a string");
        assertInvalid(() -> Safetensors.read(raw("{\"__metadata__\":[\"x\"]}", new byte[0])), "must be an object of strings");
        String a = "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        assertInvalid(() -> Safetensors.read(raw("{" + a + "," + a + "}", new byte[1])), "names 'a' twice");
    }

    @Test
    void rejectsATruncatedFile() throws IOException {
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.ofFloats(new long[] {4, 4}, new float[16]));
        Path file = dir.resolve("cut.safetensors");
        Safetensors.write(file, tensors, Map.of());
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length - 1));
        assertInvalid(() -> Safetensors.read(file), "cut.safetensors", "tensor 'w'", "beyond the data buffer", "truncated");
        Files.write(file, Arrays.copyOf(whole, 20));
        assertInvalid(() -> Safetensors.read(file), "cut.safetensors", "is larger than the 12 bytes", "truncated");
    }

    @Test
    void readsAnEmptyFileOfTensors() throws IOException {
        Path file = dir.resolve("none.safetensors");
        Safetensors.write(file, new LinkedHashMap<>(), Map.of());
        assertEquals(16, Files.size(file)); // 8-byte length + "{}" padded to 8
        SafetensorsFile read = Safetensors.read(file);
        assertEquals(0, read.tensors().size());
        assertEquals(0, read.metadata().size());
    }
}
