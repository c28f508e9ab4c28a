package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

/**
 * Compares a CUDA result with its cpu reference: |got - ref| <= abs + |ref| * rel for every value,
 * or bit for bit. On failure the message gives the count outside, the worst absolute and
 * relative errors and the first five mismatching pairs.
 */
final class Compare {
    private Compare() {}

    static void close(String what, float[] ref, float[] got, double abs, double rel) {
        double[] r = new double[ref.length];
        double[] g = new double[got.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = ref[i];
        }
        for (int i = 0; i < g.length; i++) {
            g[i] = got[i];
        }
        close(what, r, g, abs, rel);
    }

    static void close(String what, double[] ref, double[] got, double abs, double rel) {
        if (ref.length != got.length) {
            fail(what + ": " + got.length + " values, the reference has " + ref.length);
        }
        double worstAbs = 0, worstRel = 0;
        int bad = 0;
        List<String> first = new ArrayList<>();
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(ref[i] - got[i]);
            boolean sameNonFinite = !Double.isFinite(ref[i]) && Double.compare(ref[i], got[i]) == 0;
            if (!sameNonFinite && !(err <= abs + Math.abs(ref[i]) * rel)) {
                bad++;
                if (first.size() < 5) {
                    first.add("[" + i + "] cpu=" + ref[i] + " cuda=" + got[i]);
                }
            }
            if (sameNonFinite) {
                err = 0;
            } else if (Double.isNaN(err)) {
                err = Double.POSITIVE_INFINITY;
            }
            worstAbs = Math.max(worstAbs, err);
            worstRel = Math.max(worstRel, err / Math.max(Math.abs(ref[i]), 1e-30));
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + ref.length + " values outside abs " + abs + " + |cpu| * " + rel
                    + "; worst abs error " + worstAbs + ", worst rel error " + worstRel + "; first mismatches: " + first);
        }
    }

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
