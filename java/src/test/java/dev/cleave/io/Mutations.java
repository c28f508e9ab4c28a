package dev.cleave.io;

import dev.cleave.util.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded random mutations of a good file's bytes, for the parsers' fuzz tests: bit flips,
 * bytes set to boundary values, 32- and 64-bit fields overwritten with extreme integers,
 * deleted, inserted and duplicated ranges, truncation, and a run of decimal digits (a length, a
 * shape, an offset in a header) replaced by another number. One to three per input.
 */
public final class Mutations {
    private static final byte[] BYTES = {0, 1, (byte) 0x7f, (byte) 0x80, (byte) 0xff, '{', '}', '[', ']', '"', ',', ':', '-',
            '9', '\\', ' '};
    private static final long[] LONGS = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 0xffffffffL, Long.MAX_VALUE,
            Long.MIN_VALUE, 1L << 31, 1L << 40, 100_000_001L};
    private static final String[] NUMBERS = {"0", "-1", "1", "2", "3", "7", "99999999999", "2147483648", "-2147483649",
            "1e400", "1.5", "9223372036854775808", "00", "16"};

    private final SplittableRandom random;

    public Mutations(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A mutated copy of {@code good}. */
    public byte[] mutate(byte[] good) {
        byte[] b = good.clone();
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            b = once(b);
        }
        return b;
    }

    /** A mutated copy of {@code good} as text (invalid UTF-8 becomes U+FFFD). */
    public String mutate(String good) {
        return new String(mutate(good.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    private byte[] once(byte[] b) {
        if (b.length == 0) {
            return new byte[] {BYTES[random.nextInt(BYTES.length)]};
        }
        int at = random.nextInt(b.length);
        switch (random.nextInt(8)) {
            case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> b[at] = BYTES[random.nextInt(BYTES.length)];
            case 2 -> {
                long v = LONGS[random.nextInt(LONGS.length)];
                int width = random.nextBoolean() ? 4 : 8;
                boolean little = random.nextBoolean();
                for (int k = 0; k < width && at + k < b.length; k++) {
                    int shift = 8 * (little ? k : width - 1 - k);
                    b[at + k] = (byte) (v >>> shift);
                }
            }
            case 3 -> {
                int len = Math.min(b.length - at, 1 + random.nextInt(16));
                byte[] out = new byte[b.length - len];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, at + len, out, at, b.length - at - len);
                return out;
            }
            case 4 -> {
                int len = 1 + random.nextInt(16);
                byte[] insert = new byte[len];
                for (int k = 0; k < len; k++) {
                    insert[k] = random.nextBoolean() ? BYTES[random.nextInt(BYTES.length)] : (byte) random.nextInt(256);
                }
                return splice(b, at, insert);
            }
            case 5 -> {
                int len = Math.min(b.length - at, 1 + random.nextInt(64));
                return splice(b, random.nextInt(b.length + 1), Arrays.copyOfRange(b, at, at + len));
            }
            case 6 -> {
                return Arrays.copyOf(b, at);
            }
            default -> {
                int start = at;
                while (start < b.length && (b[start] < '0' || b[start] > '9')) {
                    start++;
                }
                if (start == b.length) {
                    b[at] = '0';
                    return b;
                }
                int end = start;
                while (end < b.length && b[end] >= '0' && b[end] <= '9') {
                    end++;
                }
                byte[] number = NUMBERS[random.nextInt(NUMBERS.length)].getBytes(StandardCharsets.US_ASCII);
                byte[] out = new byte[b.length - (end - start) + number.length];
                System.arraycopy(b, 0, out, 0, start);
                System.arraycopy(number, 0, out, start, number.length);
                System.arraycopy(b, end, out, start + number.length, b.length - end);
                return out;
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int at, byte[] insert) {
        byte[] out = new byte[b.length + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at, out, at + insert.length, b.length - at);
        return out;
    }

    /** What a fuzzed parser call may do: return, or throw InvalidInputException. */
    @FunctionalInterface
    public interface Parse {
        void run() throws Exception;
    }

    /**
     * Runs {@code parse}; returns true when it accepted the input, false for an
     * {@link InvalidInputException}, and throws an AssertionError naming the input for anything
     * else.
     */
    public static boolean acceptsOrRejectsCleanly(String input, Parse parse) {
        try {
            parse.run();
            return true;
        } catch (InvalidInputException e) {
            if (e.getMessage() == null || e.getMessage().isBlank() || e.getMessage().contains("\n")) {
                throw new AssertionError(input + ": the message must be one line, got '" + e.getMessage() + "'", e);
            }
            return false;
        } catch (Throwable t) {
            throw new AssertionError(input + ": " + t.getClass().getName() + " instead of a valid result or an "
                    + "InvalidInputException", t);
        }
    }
}
