package dev.cleave.io;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The safetensors format (Hugging Face; what PyTorch users exchange weights in):
 *
 * <pre>
 * 8 bytes   N, little-endian unsigned 64-bit: the header's length in bytes
 * N bytes   UTF-8 JSON object: {"__metadata__": {"key": "value", ...},
 *                               "name": {"dtype": "F32", "shape": [r, c], "data_offsets": [begin, end]}, ...}
 * rest      the data buffer: each tensor's elements, little-endian, row-major,
 *           at bytes [begin, end) of the buffer
 * </pre>
 *
 * <p>{@link #write} puts {@code __metadata__} first (omitted when empty), then the tensors in
 * the map's order, back to back in the buffer in that same order, and pads the header with
 * spaces so the data starts 8-byte aligned, as the reference implementation does. It writes
 * through {@link AtomicFiles}, so a failed write never leaves a partial file.
 *
 * <p>{@link #read} checks everything the specification requires, each failure an
 * {@link InvalidInputException} naming the file: the length prefix (present, at most
 * {@value #MAX_HEADER_BYTES} bytes, within the file), the header (UTF-8, a JSON object, no
 * duplicate names), each entry (known dtype, non-negative integer shape, {@code data_offsets}
 * = [begin, end] with end - begin = elements x dtype size, inside the buffer), the metadata
 * (string values only), and that the tensors cover the data buffer exactly, with no overlap
 * and no gap.
 */
public final class Safetensors {
    /** The largest header accepted, as in the reference implementation: 100 MB. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The reserved header key holding the string-to-string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private static final ObjectReader STRICT_TREE_READER =
            Json.mapper().reader().with(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private Safetensors() {}

    /** Element types, with the names the format uses. */
    public enum DType {
        BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), I16(2), U16(2), F16(2), BF16(2),
        I32(4), U32(4), F32(4), I64(8), U64(8), F64(8);

        private final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        /** Bytes per element. */
        public int bytes() {
            return bytes;
        }

        /** The dtype called {@code name} in a header, or null if there is none. */
        static DType parse(String name) {
            for (DType t : values()) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /**
     * An immutable tensor: dtype, shape and its elements as little-endian bytes, row-major.
     * Factories copy the arrays they are given; accessors return copies; tensors read from a
     * file share (read-only) the file's buffer. Typed accessors check the dtype (and
     * {@link #asMatrix} the rank) and throw {@link InvalidInputException} naming the tensor
     * (and its file, when read from one) otherwise.
     */
    public static final class Tensor {
        private final DType dtype;
        private final long[] shape;
        private final ByteBuffer data; // read-only, little-endian, position 0
        private final String origin;

        private Tensor(DType dtype, long[] shape, ByteBuffer data, String origin) {
            this.dtype = Objects.requireNonNull(dtype, "dtype");
            this.shape = shape.clone();
            long bytes = byteCount(dtype, this.shape);
            if (bytes != data.remaining()) {
                throw new IllegalArgumentException(dtype + " " + Arrays.toString(shape) + " needs " + bytes
                        + " bytes of data, got " + data.remaining());
            }
            this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer();
            this.origin = origin;
        }

        /**
         * A tensor of any dtype from its little-endian bytes (copied).
         *
         * @throws IllegalArgumentException if a dimension is negative or the length does not
         *                                  match shape x dtype size
         */
        public static Tensor of(DType dtype, long[] shape, byte[] littleEndianBytes) {
            return new Tensor(dtype, shape, ByteBuffer.wrap(littleEndianBytes.clone()), null);
        }

        /** A 2-D F32 tensor {@code [rows, cols]} with the matrix's values (copied). */
        public static Tensor of(FloatMatrix matrix) {
            return ofFloats(new long[] {matrix.rows(), matrix.cols()}, matrix.data());
        }

        /** An F32 tensor (values copied). */
        public static Tensor ofFloats(long[] shape, float[] values) {
            ByteBuffer b = allocate(values.length, DType.F32);
            b.asFloatBuffer().put(values);
            return new Tensor(DType.F32, shape, b, null);
        }

        /** An F64 tensor (values copied). */
        public static Tensor ofDoubles(long[] shape, double[] values) {
            ByteBuffer b = allocate(values.length, DType.F64);
            b.asDoubleBuffer().put(values);
            return new Tensor(DType.F64, shape, b, null);
        }

        /** An I32 tensor (values copied). */
        public static Tensor ofInts(long[] shape, int[] values) {
            ByteBuffer b = allocate(values.length, DType.I32);
            b.asIntBuffer().put(values);
            return new Tensor(DType.I32, shape, b, null);
        }

        /** An I64 tensor (values copied). */
        public static Tensor ofLongs(long[] shape, long[] values) {
            ByteBuffer b = allocate(values.length, DType.I64);
            b.asLongBuffer().put(values);
            return new Tensor(DType.I64, shape, b, null);
        }

        /** A U8 tensor: each byte is an unsigned value in [0, 255] (values copied). */
        public static Tensor ofBytes(long[] shape, byte[] values) {
            return of(DType.U8, shape, values);
        }

        private static ByteBuffer allocate(int elements, DType dtype) {
            return ByteBuffer.allocate(Math.multiplyExact(elements, dtype.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        }

        public DType dtype() {
            return dtype;
        }

        /** The shape (a copy); {@code []} for a scalar. */
        public long[] shape() {
            return shape.clone();
        }

        /** Number of elements: the product of the shape (1 for a scalar). */
        public long elementCount() {
            return Safetensors.elementCount(shape);
        }

        /** Size of the data in bytes. */
        public int byteSize() {
            return data.capacity();
        }

        /** The data: a read-only little-endian view at position 0. */
        public ByteBuffer data() {
            return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }

        /** A copy of the raw little-endian bytes, whatever the dtype. */
        public byte[] bytes() {
            byte[] out = new byte[data.capacity()];
            data.duplicate().get(out);
            return out;
        }

        /** The elements of an F32 tensor, row-major. */
        public float[] asFloats() {
            require(DType.F32, "asFloats()");
            float[] out = new float[data.capacity() / 4];
            data().asFloatBuffer().get(out);
            return out;
        }

        /** The elements of an F64 tensor, row-major. */
        public double[] asDoubles() {
            require(DType.F64, "asDoubles()");
            double[] out = new double[data.capacity() / 8];
            data().asDoubleBuffer().get(out);
            return out;
        }

        /** The elements of an I32 tensor, row-major. */
        public int[] asInts() {
            require(DType.I32, "asInts()");
            int[] out = new int[data.capacity() / 4];
            data().asIntBuffer().get(out);
            return out;
        }

        /** The elements of an I64 tensor, row-major. */
        public long[] asLongs() {
            require(DType.I64, "asLongs()");
            long[] out = new long[data.capacity() / 8];
            data().asLongBuffer().get(out);
            return out;
        }

        /** The elements of a U8 tensor (read each as {@code b & 0xFF}). */
        public byte[] asBytes() {
            require(DType.U8, "asBytes()");
            return bytes();
        }

        /** A 2-D F32 tensor {@code [rows, cols]} as a matrix (a copy). */
        public FloatMatrix asMatrix() {
            if (dtype != DType.F32 || shape.length != 2 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
                throw new InvalidInputException(describe() + " is " + dtype + " " + Arrays.toString(shape)
                        + ", but a matrix needs a 2-D F32 tensor: convert it (e.g. tensor.float() in PyTorch) or pick another tensor");
            }
            return new FloatMatrix((int) shape[0], (int) shape[1], asFloats());
        }

        private void require(DType wanted, String accessor) {
            if (dtype != wanted) {
                throw new InvalidInputException(describe() + " is " + dtype + " " + Arrays.toString(shape) + "; "
                        + accessor + " needs " + wanted + ": store it as " + wanted + " or read it with the matching accessor");
            }
        }

        private String describe() {
            return origin != null ? origin : "the tensor";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && t.data.equals(data);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + data.hashCode();
        }

        @Override
        public String toString() {
            return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
        }
    }

    /**
     * Writes {@code tensors} (in the map's order) and {@code metadata} (sorted by key) to
     * {@code file}, atomically.
     *
     * @param metadata string-to-string metadata; null or empty for none
     * @throws IllegalArgumentException if a name is empty or {@value #METADATA_KEY}, or a value is null
     * @throws IOException              if the file cannot be written (the old file, if any, is kept)
     */
    public static void write(Path file, LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata)
            throws IOException {
        byte[] header = header(tensors, metadata == null ? Map.of() : metadata);
        AtomicFiles.write(file, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(length.array());
            out.write(header);
            for (Tensor t : tensors.values()) {
                writeData(out, t.data());
            }
        });
    }

    private static void writeData(OutputStream out, ByteBuffer data) throws IOException {
        if (data.hasArray()) { // read-only buffers hide their array: copy in chunks below
            out.write(data.array(), data.arrayOffset() + data.position(), data.remaining());
            return;
        }
        byte[] chunk = new byte[Math.min(data.remaining(), 1 << 16)];
        while (data.hasRemaining()) {
            int n = Math.min(chunk.length, data.remaining());
            data.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = Json.mapper().getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(METADATA_KEY);
                for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
                    g.writeStringField(e.getKey(), Objects.requireNonNull(e.getValue(), "metadata value of " + e.getKey()));
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                String name = e.getKey();
                Tensor t = Objects.requireNonNull(e.getValue(), "tensor " + name);
                if (name.isEmpty() || name.equals(METADATA_KEY)) {
                    throw new IllegalArgumentException("invalid tensor name '" + name + "': names must be non-empty and not "
                            + METADATA_KEY);
                }
                g.writeObjectFieldStart(name);
                g.writeStringField("dtype", t.dtype().name());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + t.byteSize());
                g.writeEndArray();
                g.writeEndObject();
                offset += t.byteSize();
            }
            g.writeEndObject();
        }
        while (bytes.size() % 8 != 0) {
            bytes.write(' ');
        }
        return bytes.toByteArray();
    }

    /**
     * Reads and validates a safetensors file (see the class comment for what is checked).
     * The whole file is read into memory; files of 2 GiB or more are refused.
     *
     * @throws InvalidInputException naming the file and the problem
     */
    public static SafetensorsFile read(Path file) {
        InputFiles.requireReadableFile(file, "a safetensors file");
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size >= Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(file + ": " + size + " bytes; safetensors files of 2 GiB or more are not supported");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        }
        return parse(file, bytes);
    }

    private static SafetensorsFile parse(Path file, byte[] bytes) {
        if (bytes.length < 8) {
            throw invalid(file, "only " + bytes.length + " bytes; a safetensors file starts with an 8-byte header length: "
                    + "the file is truncated or not safetensors");
        }
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 0 || n > MAX_HEADER_BYTES || n > bytes.length - 8) {
            rejectPytorchPickle(file, bytes);
        }
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw invalid(file, "header length " + Long.toUnsignedString(n) + " is absurd (the limit is " + MAX_HEADER_BYTES
                    + " bytes): the file is corrupt or not safetensors");
        }
        if (n > bytes.length - 8) {
            throw invalid(file, "header length " + n + " is larger than the " + (bytes.length - 8)
                    + " bytes after the length prefix: the file is truncated or not safetensors");
        }
        int dataStart = 8 + (int) n;
        String headerText;
        try {
            headerText = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, (int) n)).toString();
        } catch (CharacterCodingException e) {
            throw invalid(file, "the header is not valid UTF-8: the file is corrupt or not safetensors");
        }
        int dataLength = bytes.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        try (JsonParser parser = Json.mapper().getFactory().createParser(headerText)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw invalid(file, "the header is not a JSON object (it must start with '{'): the file is corrupt or not safetensors");
            }
            Set<String> names = new HashSet<>();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                JsonNode value = STRICT_TREE_READER.readTree(parser);
                if (!names.add(name)) {
                    throw invalid(file, "the header names '" + name + "' twice: names must be unique");
                }
                if (name.equals(METADATA_KEY)) {
                    readMetadata(file, value, metadata);
                } else {
                    entries.add(entry(file, name, value, dataLength));
                }
            }
            if (parser.nextToken() != null) {
                throw invalid(file, "unexpected content after the header's JSON object");
            }
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(file + ": the header is not valid JSON (" + e.getOriginalMessage()
                    + "): the file is corrupt or not safetensors", e);
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e); // not reached: the header is parsed from memory
        }
        checkCoverage(file, entries, dataLength);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            ByteBuffer slice = ByteBuffer.wrap(bytes, dataStart + (int) e.begin, (int) (e.end - e.begin));
            tensors.put(e.name, new Tensor(e.dtype, e.shape, slice, file + ": tensor '" + e.name + "'"));
        }
        return new SafetensorsFile(file, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /**
     * Refuses a file that {@code torch.save} wrote (a zip archive since PyTorch 1.6, a bare
     * pickle before): loading one runs the code inside it, so Cleave never does.
     */
    private static void rejectPytorchPickle(Path file, byte[] bytes) {
        boolean zip = bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4;
        boolean pickle = (bytes[0] & 0xFF) == 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
        if (zip || pickle) {
            throw invalid(file, "this is a PyTorch pickle (torch.save, " + (zip ? "zip" : "legacy") + " format), not safetensors; "
                    + "Cleave does not unpickle files, because loading a pickle runs code. In Python, where you trust the file: "
                    + "'import torch; from safetensors.torch import save_file' then "
                    + "'save_file(torch.load(\"" + file.getFileName() + "\"), \"model.safetensors\")' "
                    + "(for a whole saved model, add .state_dict() after torch.load(...))");
        }
    }

    /** One header entry, validated on its own. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static Entry entry(Path file, String name, JsonNode value, int dataLength) {
        String where = "tensor '" + name + "'";
        if (!value.isObject()) {
            throw invalid(file, where + " must be an object {\"dtype\", \"shape\", \"data_offsets\"}, found " + value.getNodeType());
        }
        JsonNode dtypeNode = value.get("dtype");
        DType dtype = dtypeNode != null && dtypeNode.isTextual() ? DType.parse(dtypeNode.asText()) : null;
        if (dtype == null) {
            throw invalid(file, where + " has " + (dtypeNode == null ? "no dtype" : "unknown dtype " + dtypeNode)
                    + "; known dtypes are " + Arrays.toString(DType.values()));
        }
        long[] shape = longs(file, where, "shape", value.get("shape"), -1);
        for (long d : shape) {
            if (d < 0) {
                throw invalid(file, where + " has a negative dimension in shape " + Arrays.toString(shape));
            }
        }
        long[] offsets = longs(file, where, "data_offsets", value.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw invalid(file, where + " has data_offsets [" + begin + ", " + end + "]: need 0 <= begin <= end");
        }
        long expected;
        try {
            expected = byteCount(dtype, shape);
        } catch (ArithmeticException e) {
            throw invalid(file, where + " has shape " + Arrays.toString(shape) + ", too large to address");
        }
        if (end - begin != expected) {
            throw invalid(file, where + " has data_offsets [" + begin + ", " + end + "] spanning " + (end - begin)
                    + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs " + expected);
        }
        if (end > dataLength) {
            throw invalid(file, where + " has data_offsets [" + begin + ", " + end + "] beyond the data buffer's "
                    + dataLength + " bytes: the file is truncated or its header is wrong");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** An array of integers; {@code length} -1 for any length. */
    private static long[] longs(Path file, String where, String field, JsonNode node, int length) {
        String wanted = length == 2 ? "[begin, end]" : "an array of integers";
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw invalid(file, where + " has " + (node == null ? "no " + field : field + " " + node) + "; expected " + wanted);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong()) {
                throw invalid(file, where + " has " + field + " " + node + "; expected " + wanted);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static void readMetadata(Path file, JsonNode value, Map<String, String> metadata) {
        if (!value.isObject()) {
            throw invalid(file, METADATA_KEY + " must be an object of strings, found " + value.getNodeType());
        }
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            if (!e.getValue().isTextual()) {
                throw invalid(file, METADATA_KEY + " value for key '" + e.getKey() + "' is " + e.getValue().getNodeType()
                        + " " + e.getValue() + ", not a string: safetensors metadata maps strings to strings");
            }
            metadata.put(e.getKey(), e.getValue().textValue());
        }
    }

    /** The tensors must tile the data buffer exactly: no overlap, no gap, nothing left over. */
    private static void checkCoverage(Path file, List<Entry> entries, int dataLength) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin < covered) {
                throw invalid(file, "tensors '" + previous.name + "' [" + previous.begin + ", " + previous.end + ") and '"
                        + e.name + "' [" + e.begin + ", " + e.end + ") overlap in the data buffer");
            }
            if (e.begin > covered) {
                throw invalid(file, "bytes [" + covered + ", " + e.begin + ") of the data buffer belong to no tensor: "
                        + "the format requires the tensors to cover the buffer without gaps");
            }
            covered = e.end;
            previous = e;
        }
        if (covered != dataLength) {
            throw invalid(file, "the last " + (dataLength - covered) + " bytes of the data buffer (bytes [" + covered + ", "
                    + dataLength + ")) belong to no tensor: the format requires the tensors to cover the buffer exactly");
        }
    }

    private static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static long byteCount(DType dtype, long[] shape) {
        return Math.multiplyExact(elementCount(shape), dtype.bytes());
    }

    private static InvalidInputException invalid(Path file, String problem) {
        return new InvalidInputException(file + ": " + problem);
    }
}
