package dev.cleave.io;

import dev.cleave.util.InvalidInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * Integrity checks on tensors read from a safetensors file, apart from the format's own
 * validation in {@link Safetensors}: that floating-point tensors hold finite values only, and a
 * checksum of a file's payload that a writer stores in its metadata and a reader verifies.
 */
public final class SafetensorsIntegrity {
    private SafetensorsIntegrity() {}

    /**
     * Checks that every F32 and F64 tensor of {@code tensors} holds finite values only (other
     * dtypes are not checked).
     *
     * @throws InvalidInputException naming the file, the tensor, the first bad index (and its
     *                               row and column for a matrix) and the value
     */
    public static void requireFinite(Path file, Map<String, Safetensors.Tensor> tensors) {
        for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
            requireFinite(file, e.getKey(), e.getValue());
        }
    }

    /** {@link #requireFinite(Path, Map)} for one tensor. */
    public static void requireFinite(Path file, String name, Safetensors.Tensor t) {
        ByteBuffer data = t.data();
        long index = -1;
        double value = 0;
        if (t.dtype() == Safetensors.DType.F32) {
            java.nio.FloatBuffer f = data.asFloatBuffer();
            for (int i = 0; i < f.limit(); i++) {
                float v = f.get(i);
                if (!Float.isFinite(v)) {
                    index = i;
                    value = v;
                    break;
                }
            }
        } else if (t.dtype() == Safetensors.DType.F16 || t.dtype() == Safetensors.DType.BF16) {
            // An all-ones exponent field is Inf or NaN in both half formats.
            int exponent = t.dtype() == Safetensors.DType.F16 ? 0x7C00 : 0x7F80;
            java.nio.ShortBuffer h = data.asShortBuffer();
            for (int i = 0; i < h.limit(); i++) {
                if ((h.get(i) & exponent) == exponent) {
                    index = i;
                    value = t.dtype() == Safetensors.DType.F16 ? StateDict.halfToFloat(h.get(i))
                            : Float.intBitsToFloat((h.get(i) & 0xFFFF) << 16);
                    break;
                }
            }
        } else if (t.dtype() == Safetensors.DType.F64) {
            java.nio.DoubleBuffer d = data.asDoubleBuffer();
            for (int i = 0; i < d.limit(); i++) {
                double v = d.get(i);
                if (!Double.isFinite(v)) {
                    index = i;
                    value = v;
                    break;
                }
            }
        }
        if (index >= 0) {
            long[] shape = t.shape();
            String where = shape.length == 2 && shape[1] > 0
                    ? " (row " + index / shape[1] + ", column " + index % shape[1] + ")" : "";
            throw new InvalidInputException(file + ": tensor '" + name + "' " + Arrays.toString(shape) + " holds " + value
                    + " at index " + index + where + ": weights must be finite; the file is damaged or was saved from a "
                    + "diverged run");
        }
    }

    /**
     * CRC32C of a file's payload, as 8 lower-case hex digits: every tensor in map order (its
     * name, dtype, shape and bytes), then every metadata entry but {@code excludedKey} (the one
     * that stores the checksum) in key order. The same tensors and metadata give the same value
     * whatever the header's layout.
     */
    public static String payloadCrc32c(Map<String, Safetensors.Tensor> tensors, Map<String, String> metadata,
            String excludedKey) {
        CRC32C crc = new CRC32C();
        ByteBuffer number = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, Safetensors.Tensor> e : tensors.entrySet()) {
            Safetensors.Tensor t = e.getValue();
            text(crc, number, e.getKey());
            text(crc, number, t.dtype().name());
            putLong(crc, number, t.shape().length);
            for (long d : t.shape()) {
                putLong(crc, number, d);
            }
            putLong(crc, number, t.byteSize());
            crc.update(t.data());
        }
        for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
            if (!e.getKey().equals(excludedKey)) {
                text(crc, number, e.getKey());
                text(crc, number, e.getValue());
            }
        }
        return String.format("%08x", crc.getValue());
    }

    private static void text(CRC32C crc, ByteBuffer number, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        putLong(crc, number, b.length); // length-prefixed, so ("ab", "c") and ("a", "bc") differ
        crc.update(b);
    }

    private static void putLong(CRC32C crc, ByteBuffer number, long v) {
        number.clear();
        number.putLong(v).flip();
        crc.update(number);
    }
}
