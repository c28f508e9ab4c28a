package dev.cleave.nn;

import dev.cleave.Tolerance;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The convolutional ops of {@link ConvReference}: gradients against central finite differences
 * in double precision, a convolution computed by hand, max pooling's ties and batchnorm's running
 * statistics as PyTorch defines them.
 */
class ConvReferenceTest {
    private static final double H = 1e-6;

    private static double[] random(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian();
        }
        return a;
    }

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
    void conv2dGradientsMatchFiniteDifferences() {
        Random r = new Random(11);
        Conv2dShape[] shapes = {new Conv2dShape(2, 3, 5, 4, 2, 3, 1, 1), new Conv2dShape(1, 2, 6, 7, 3, 3, 2, 0),
            new Conv2dShape(2, 1, 4, 4, 2, 1, 1, 0), new Conv2dShape(1, 2, 5, 5, 2, 5, 2, 2)};
        for (Conv2dShape s : shapes) {
            for (boolean relu : new boolean[] {false, true}) {
                double[] x = random(r, s.batch() * s.inSize()), w = random(r, s.outChannels() * s.patchSize());
                double[] b = random(r, s.outChannels()), probe = random(r, s.batch() * s.outSize());
                Function<double[], Double> byX = xx -> dot(ConvReference.conv2dForward(s, xx, w, b, relu), probe);
                Function<double[], Double> byW = ww -> dot(ConvReference.conv2dForward(s, x, ww, b, relu), probe);
                Function<double[], Double> byB = bb -> dot(ConvReference.conv2dForward(s, x, w, bb, relu), probe);
                double[] y = ConvReference.conv2dForward(s, x, w, b, relu);
                ConvReference.Conv2dGrads g = ConvReference.conv2dBackward(s, x, w, y, probe, relu, true);
                String what = s + " relu=" + relu;
                Tolerance.assertClose("conv2d dx " + what, numericGrad(byX, x), g.dx(), 1e-6, 1e-6);
                Tolerance.assertClose("conv2d dw " + what, numericGrad(byW, w), g.dw(), 1e-6, 1e-6);
                Tolerance.assertClose("conv2d db " + what, numericGrad(byB, b), g.db(), 1e-6, 1e-6);
            }
        }
    }

    /** A 4x4 image, a 3x3 kernel, padding 1, stride 1, bias 0.5: every output worked out by hand. */
    @Test
    void conv2dOfA3x3KernelComputedByHand() {
        Conv2dShape s = new Conv2dShape(1, 1, 4, 4, 1, 3, 1, 1);
        double[] x = {1, 2, 3, 4,
                      5, 6, 7, 8,
                      9, 10, 11, 12,
                      13, 14, 15, 16};
        double[] w = {0, 1, 0,
                      1, -4, 1,
                      0, 1, 0};  // the discrete Laplacian
        // y[r][c] = up + down + left + right - 4 centre (zero outside) + 0.5
        double[] expected = {
            (0 + 5 + 0 + 2 - 4) + 0.5, (0 + 6 + 1 + 3 - 8) + 0.5, (0 + 7 + 2 + 4 - 12) + 0.5, (0 + 8 + 3 + 0 - 16) + 0.5,
            (1 + 9 + 0 + 6 - 20) + 0.5, (2 + 10 + 5 + 7 - 24) + 0.5, (3 + 11 + 6 + 8 - 28) + 0.5, (4 + 12 + 7 + 0 - 32) + 0.5,
            (5 + 13 + 0 + 10 - 36) + 0.5, (6 + 14 + 9 + 11 - 40) + 0.5, (7 + 15 + 10 + 12 - 44) + 0.5, (8 + 16 + 11 + 0 - 48) + 0.5,
            (9 + 0 + 0 + 14 - 52) + 0.5, (10 + 0 + 13 + 15 - 56) + 0.5, (11 + 0 + 14 + 16 - 60) + 0.5, (12 + 0 + 15 + 0 - 64) + 0.5};
        assertArrayEquals(expected, ConvReference.conv2dForward(s, x, w, new double[] {0.5}, false), 1e-12);
        // Stride 2, no padding: the 3x3 windows at (0,0) only: 2 + 5 + 7 + 10 - 24 = 0.
        Conv2dShape s2 = new Conv2dShape(1, 1, 4, 4, 1, 3, 2, 0);
        assertArrayEquals(new double[] {0.0}, ConvReference.conv2dForward(s2, x, w, null, false), 1e-12);
        // With ReLU, the negative border outputs become 0.
        double[] relu = ConvReference.conv2dForward(s, x, w, new double[] {0.5}, true);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Math.max(expected[i], 0), relu[i], 1e-12);
        }
    }

    @Test
    void maxpool2dGradientsMatchFiniteDifferencesAndTiesGoToTheFirst() {
        Random r = new Random(12);
        for (Pool2dShape s : new Pool2dShape[] {new Pool2dShape(2, 3, 4, 6, 2, 2), new Pool2dShape(1, 2, 5, 5, 3, 2),
            new Pool2dShape(1, 1, 5, 3, 2, 1)}) {
            double[] x = random(r, s.batch() * s.inSize()), probe = random(r, s.batch() * s.outSize());
            ConvReference.MaxPool p = ConvReference.maxpool2dForward(s, x);
            Function<double[], Double> f = xx -> dot(ConvReference.maxpool2dForward(s, xx).y(), probe);
            Tolerance.assertClose("maxpool2d dx " + s, numericGrad(f, x), ConvReference.maxpool2dBackward(s, probe, p.argmax()),
                    1e-6, 1e-6);
        }
        Pool2dShape s = new Pool2dShape(1, 1, 2, 4, 2, 2);
        ConvReference.MaxPool p = ConvReference.maxpool2dForward(s, new double[] {1, 3, 2, 2, 3, 1, Double.NaN, 2});
        assertArrayEquals(new int[] {1, 6}, p.argmax());
        assertEquals(3.0, p.y()[0]);
        assertEquals(Double.NaN, p.y()[1]);
    }

    @Test
    void batchnorm2dGradientsMatchFiniteDifferencesInTrainingAndEval() {
        Random r = new Random(13);
        BatchNorm2dShape s = new BatchNorm2dShape(3, 2, 2, 3);
        double[] x = random(r, s.batch() * s.size()), gamma = random(r, 2), beta = random(r, 2);
        double[] rm = {0.3, -0.2}, rv = {1.5, 0.7}, probe = random(r, x.length);
        for (boolean training : new boolean[] {true, false}) {
            double eps = ConvReference.BATCHNORM_EPS, mom = ConvReference.BATCHNORM_MOMENTUM;
            Function<double[], Double> byX = xx -> dot(ConvReference.batchnorm2dForward(s, xx, gamma, beta, rm, rv, training,
                    mom, eps).y(), probe);
            Function<double[], Double> byG = gg -> dot(ConvReference.batchnorm2dForward(s, x, gg, beta, rm, rv, training,
                    mom, eps).y(), probe);
            Function<double[], Double> byB = bb -> dot(ConvReference.batchnorm2dForward(s, x, gamma, bb, rm, rv, training,
                    mom, eps).y(), probe);
            ConvReference.BatchNorm f = ConvReference.batchnorm2dForward(s, x, gamma, beta, rm, rv, training, mom, eps);
            ConvReference.BatchNormGrads g = ConvReference.batchnorm2dBackward(s, x, gamma, f.mean(), f.invStd(), probe,
                    training);
            Tolerance.assertClose("batchnorm2d dx training=" + training, numericGrad(byX, x), g.dx(), 1e-6, 1e-5);
            Tolerance.assertClose("batchnorm2d dgamma training=" + training, numericGrad(byG, gamma), g.dgamma(), 1e-6, 1e-6);
            Tolerance.assertClose("batchnorm2d dbeta training=" + training, numericGrad(byB, beta), g.dbeta(), 1e-6, 1e-6);
        }
    }

    /** PyTorch's BatchNorm2d on one channel of values 1, 2, 3, 4 (batch 2, 1x2 images), momentum 0.1. */
    @Test
    void batchnorm2dRunningStatisticsFollowPyTorch() {
        BatchNorm2dShape s = new BatchNorm2dShape(2, 1, 1, 2);
        double[] x = {1, 2, 3, 4};
        ConvReference.BatchNorm f = ConvReference.batchnorm2dForward(s, x, new double[] {1}, new double[] {0},
                new double[] {0}, new double[] {1}, true, 0.1, 1e-5);
        // mean 2.5, biased var 1.25 (normalises), unbiased var 5/3 (running).
        assertEquals(0.25, f.runningMean()[0], 1e-12);
        assertEquals(0.9 + 0.1 * 5.0 / 3.0, f.runningVar()[0], 1e-12);
        assertEquals((1 - 2.5) / Math.sqrt(1.25 + 1e-5), f.y()[0], 1e-12);
        ConvReference.BatchNorm e = ConvReference.batchnorm2dForward(s, x, new double[] {2}, new double[] {1},
                new double[] {1}, new double[] {4}, false, 0.1, 1e-5);
        assertEquals(2 * (4 - 1) / Math.sqrt(4 + 1e-5) + 1, e.y()[3], 1e-12);
        assertArrayEquals(new double[] {1}, e.runningMean());
    }
}
