package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;

/** Compares arrays with tolerance abs + |ref| * rel; on failure reports the worst errors and the first mismatches. */
public final class Parity {
    private Parity() {}

    public static void assertClose(String what, double[] ref, float[] got, double abs, double rel) {
        double[] g = new double[got.length];
        for (int i = 0; i < got.length; i++) {
            g[i] = got[i];
        }
        assertClose(what, ref, g, abs, rel);
    }

    public static void assertClose(String what, double[] ref, double[] got, double abs, double rel) {
        if (ref.length != got.length) {
            fail(what + ": length " + got.length + " != reference length " + ref.length);
        }
        double worstAbs = 0, worstRel = 0;
        List<String> bad = new ArrayList<>();
        int nBad = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(ref[i] - got[i]);
            if (!(err <= abs + Math.abs(ref[i]) * rel)) {
                nBad++;
                if (bad.size() < 5) {
                    bad.add("[" + i + "] ref=" + ref[i] + " got=" + got[i]);
                }
            }
            if (Double.isNaN(got[i])) {
                err = Double.POSITIVE_INFINITY;
            }
            worstAbs = Math.max(worstAbs, err);
            worstRel = Math.max(worstRel, err / Math.max(Math.abs(ref[i]), 1e-30));
        }
        if (nBad > 0) {
            fail(what + ": " + nBad + " of " + ref.length + " values outside abs " + abs + " + rel " + rel
                    + "; worst abs error " + worstAbs + ", worst rel error " + worstRel + "; first: " + bad);
        }
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
