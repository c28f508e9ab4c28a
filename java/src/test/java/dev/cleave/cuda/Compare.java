package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

/**
 * Compares a CUDA result with its cpu reference bit for bit (tolerances: {@link dev.cleave.Tolerance}),
 * and native error messages without their source line.
 */
final class Compare {
    private Compare() {}

    static void bits(String what, float[] ref, float[] got) {
        if (ref.length != got.length) {
            fail(what + ": " + got.length + " values, the reference has " + ref.length);
        }
        int bad = 0;
        List<String> first = new ArrayList<>();
        for (int i = 0; i < ref.length; i++) {
            if (Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(got[i])) {
                bad++;
                if (first.size() < 5) {
                    first.add("[" + i + "] cpu=" + ref[i] + " cuda=" + got[i]);
                }
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + ref.length + " values differ in their bits; first mismatches: " + first);
        }
    }

    /** A native error message without its trailing " (source/file:line)". */
    static String withoutSource(String message) {
        int at = message.lastIndexOf(" (");
        return at > 0 && message.endsWith(")") && message.substring(at).contains(":") ? message.substring(0, at) : message;
    }
}
