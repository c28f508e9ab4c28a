package dev.cleave;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

/**
 * The one tolerance rule of the tests: {@code |got - ref| <= abs + |ref| * rel} for every value. A
 * non-finite reference value matches only the same value (NaN matches NaN, +inf matches +inf); a
 * NaN or infinity where the reference is finite is a mismatch. On failure the message gives the
 * count outside, the worst absolute and relative errors and the first five mismatching pairs.
 */
public final class Tolerance {
    private Tolerance() {}

    public static void assertClose(String what, double[] ref, double[] got, double abs, double rel) {
        if (ref.length != got.length) {
            fail(what + ": " + got.length + " values, the reference has " + ref.length);
        }
        double worstAbs = 0, worstRel = 0;
        int bad = 0;
        List<String> first = new ArrayList<>();
        for (int i = 0; i < ref.length; i++) {
            boolean ok;
            double err;
            if (!Double.isFinite(ref[i])) { // matches only itself
                ok = Double.compare(ref[i], got[i]) == 0;
                err = ok ? 0 : Double.POSITIVE_INFINITY;
            } else if (!Double.isFinite(got[i])) {
                ok = false;
                err = Double.POSITIVE_INFINITY;
            } else {
                err = Math.abs(ref[i] - got[i]);
                ok = err <= abs + Math.abs(ref[i]) * rel;
            }
            if (!ok) {
                bad++;
                if (first.size() < 5) {
                    first.add("[" + i + "] ref=" + ref[i] + " got=" + got[i]);
                }
            }
            worstAbs = Math.max(worstAbs, err);
            worstRel = Math.max(worstRel, err / Math.max(Math.abs(ref[i]), 1e-30));
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + ref.length + " values outside abs " + abs + " + |ref| * " + rel
                    + "; worst abs error " + worstAbs + ", worst rel error " + worstRel + "; first mismatches: " + first);
        }
    }

    public static void assertClose(String what, double[] ref, float[] got, double abs, double rel) {
        assertClose(what, ref, toDouble(got), abs, rel);
    }

    public static void assertClose(String what, float[] ref, float[] got, double abs, double rel) {
        assertClose(what, toDouble(ref), toDouble(got), abs, rel);
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
