package dev.cleave.nn;

import dev.cleave.Tolerance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Every op of the java backend's reference math, differentiated by central finite differences in double. */
class ReferenceGradientTest {
    private static final double H = 1e-6;

    private static double[] random(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian();
        }
        return a;
    }

    /** Central differences of f at x, one coordinate at a time. */
    private static double[] numericGrad(Function<double[], Double> f, double[] x) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + H;
            double up = f.apply(x);
            x[i] = keep - H;
            double down = f.apply(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * H);
        }
        return g;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @Test
    void linearGradientsMatchFiniteDifferences() {
        Random r = new Random(1);
        for (boolean relu : new boolean[] {false, true}) {
            int batch = 3, in = 5, out = 4;
            double[] x = random(r, batch * in), w = random(r, out * in), b = random(r, out), probe = random(r, batch * out);
            // Scalar loss L = sum(y * probe), so dL/dy = probe.
            Function<double[], Double> byX = xx -> dot(Reference.linearForward(xx, w, b, batch, in, out, relu), probe);
            Function<double[], Double> byW = ww -> dot(Reference.linearForward(x, ww, b, batch, in, out, relu), probe);
            Function<double[], Double> byB = bb -> dot(Reference.linearForward(x, w, bb, batch, in, out, relu), probe);
            double[] y = Reference.linearForward(x, w, b, batch, in, out, relu);
            Reference.LinearGrads g = Reference.linearBackward(x, w, y, probe, batch, in, out, relu, true);
            Tolerance.assertClose("dx relu=" + relu, numericGrad(byX, x), g.dx(), 1e-7, 1e-6);
            Tolerance.assertClose("dw relu=" + relu, numericGrad(byW, w), g.dw(), 1e-7, 1e-6);
            Tolerance.assertClose("db relu=" + relu, numericGrad(byB, b), g.db(), 1e-7, 1e-6);
        }
    }

    @Test
    void softmaxXentGradientMatchesFiniteDifferences() {
        Random r = new Random(2);
        int batch = 4, classes = 7;
        double[] logits = random(r, batch * classes);
        int[] labels = {0, 6, 3, 3};
        double scale = 1.0 / batch;
        Function<double[], Double> loss = z -> Reference.softmaxXent(z, labels, batch, classes, scale).lossSum() * scale;
        Reference.Xent x = Reference.softmaxXent(logits, labels, batch, classes, scale);
        Tolerance.assertClose("dlogits", numericGrad(loss, logits), x.dlogits(), 1e-8, 1e-6);
    }

    @Test
    void softmaxXentLossOfUniformLogitsIsLogClasses() {
        Reference.Xent x = Reference.softmaxXent(new double[10], new int[] {3}, 1, 10, 1.0);
        assertEquals(Math.log(10), x.lossSum(), 1e-12);
    }

    @Test
    void dropoutGradientIsItsMask() {
        int n = 50;
        double[] mask = Reference.dropoutMask(n, 0.5f, 9, 3);
        double[] x = random(new Random(3), n), probe = random(new Random(4), n);
        Function<double[], Double> f = xx -> {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += xx[i] * mask[i] * probe[i];
            }
            return s;
        };
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            expected[i] = mask[i] * probe[i];
        }
        Tolerance.assertClose("dropout", numericGrad(f, x), expected, 1e-8, 1e-6);
        int kept = 0;
        for (double m : mask) {
            kept += m > 0 ? 1 : 0;
            assertEquals(true, m == 0.0 || Math.abs(m - 2.0) < 1e-6, "mask value " + m);
        }
        assertEquals(true, kept > 10 && kept < 40, "about half kept, got " + kept);
    }

    @Test
    void weightPenaltyGradientMatchesFiniteDifferences() {
        double[] w = random(new Random(5), 20);
        for (int i = 0; i < w.length; i++) {
            if (Math.abs(w[i]) < 1e-3) {
                w[i] = 0.5; // keep away from |w|'s kink
            }
        }
        Function<double[], Double> f = ww -> Reference.weightPenalty(ww, 0.3, 0.7);
        Tolerance.assertClose("weight_penalty", numericGrad(f, w), Reference.weightPenaltyGrad(w, 0.3, 0.7), 1e-7, 1e-6);
    }

    @Test
    void adamFirstStepMovesEachWeightByLearningRate() {
        // With zero moments, step 1 gives m/c1 = g and sqrt(v/c2) = |g|: w moves by lr * sign(g).
        double[] w = {1, 2, 3}, g = {0.5, -2, 1e-3}, m = new double[3], v = new double[3];
        Reference.adamUpdate(w, g, m, v, null, 0.1, 0.9, 0.999, 1e-12, 1);
        Tolerance.assertClose("adam step 1", new double[] {0.9, 2.1, 2.9}, w, 1e-9, 1e-9);
    }
}
