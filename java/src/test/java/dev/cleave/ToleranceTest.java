package dev.cleave;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The one tolerance rule of the tests, and its NaN and infinity rules. */
class ToleranceTest {
    private static final double NAN = Double.NaN, INF = Double.POSITIVE_INFINITY;

    @Test
    void withinAbsPlusRelPasses() {
        Tolerance.assertClose("x", new double[] {1, 100, 0}, new double[] {1.001, 100.5, 1e-3}, 1e-3, 1e-2);
        Tolerance.assertClose("x", new float[] {2f}, new float[] {2f}, 0, 0);
    }

    @Test
    void outsideFailsWithTheWorstErrorsAndTheFirstMismatches() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> Tolerance.assertClose("x", new double[] {1, 2}, new double[] {1, 2.5}, 1e-3, 1e-3));
        assertTrue(e.getMessage().contains("1 of 2 values") && e.getMessage().contains("[1] ref=2.0 got=2.5")
                && e.getMessage().contains("worst abs error 0.5"), e.getMessage());
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new double[] {1}, new double[] {1, 2}, 1, 1));
    }

    @Test
    void nonFiniteValuesMatchOnlyThemselves() {
        Tolerance.assertClose("x", new double[] {NAN, INF, -INF}, new double[] {NAN, INF, -INF}, 0, 0);
        // a NaN or an infinity where the reference is finite, whatever the tolerance
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new double[] {1}, new double[] {NAN}, 1e9, 1e9));
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new double[] {1}, new double[] {INF}, 1e9, 1e9));
        // a finite value, or the other infinity, where the reference is not finite
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new double[] {NAN}, new double[] {1}, 1e9, 1e9));
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new double[] {INF}, new double[] {-INF}, 1e9, 1e9));
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new double[] {INF}, new double[] {1e300}, 1e9, 1e9));
    }
}
