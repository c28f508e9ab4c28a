package dev.cleave.nn;

import dev.cleave.Tolerance;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cpu kernels of the convolutional ops against the java backend (the double-precision
 * reference) on awkward shapes: batch 1, 1x1 images, odd channel counts, kernels 1, 3 and 5,
 * padding 0 and 1 (and 2), stride 2, widths that are not a multiple of the vector length, and
 * f21-cnn's convolutions; each for both algorithms of native/src/conv2d.cpp (im2col + sgemm and
 * Winograd F(2x2, 3x3), the shapes below choosing one or the other). Also the shape validation in Java and the native second line
 * of defence.
 */
class ConvCpuParityTest {
    private static CpuBackend cpu;
    private static JavaBackend ref;

    /** batch, in, height, width, out, kernel, stride, padding. */
    private static final int[][] CONV = {{1, 1, 1, 1, 1, 1, 1, 0}, {1, 3, 1, 1, 5, 1, 1, 0}, {2, 3, 5, 7, 5, 3, 1, 1},
        {1, 2, 9, 11, 3, 5, 2, 2}, {3, 5, 8, 13, 7, 3, 2, 1}, {2, 7, 6, 17, 3, 1, 2, 0}, {1, 1, 1, 1, 2, 3, 1, 1},
        {3, 4, 7, 9, 6, 5, 1, 0}, {5, 3, 4, 4, 4, 3, 1, 1}, {1, 64, 28, 28, 64, 3, 1, 1}, {2, 1, 28, 28, 64, 3, 1, 1},
        // Winograd F(2x2, 3x3) (3x3, stride 1, >= 8 channels in and out; native/src/conv2d.cpp's choose()):
        // a 1x1 image, odd channel counts and odd output sizes (partial edge tiles), padding 0, 1
        // and 2, batch 1, widths that are not a multiple of the vector length, non-square images.
        {1, 8, 1, 1, 8, 3, 1, 1}, {3, 9, 7, 13, 11, 3, 1, 1}, {2, 8, 5, 17, 9, 3, 1, 0}, {1, 11, 6, 6, 8, 3, 1, 2},
        {2, 16, 14, 14, 8, 3, 1, 1}, {1, 8, 3, 3, 13, 3, 1, 0}, {3, 13, 9, 31, 10, 3, 1, 1}, {2, 64, 14, 14, 64, 3, 1, 1},
        // Just below the Winograd rule (7 channels in, 7 out): im2col.
        {2, 7, 9, 9, 8, 3, 1, 1}, {2, 8, 9, 9, 7, 3, 1, 1}};

    @BeforeAll
    static void setUp() {
        cpu = new CpuBackend(2);
        ref = new JavaBackend();
    }

    @AfterAll
    static void tearDown() {
        cpu.close();
    }

    private static Tensor random(Random r, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) {
            t.buffer().put(i, (float) r.nextGaussian());
        }
        return t;
    }

    private static Tensor copy(Tensor t) {
        Tensor c = Tensor.zeros(t.rows(), t.cols());
        c.copyFrom(t);
        return c;
    }

    private static Conv2dShape conv(int[] c) {
        return new Conv2dShape(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
    }

    private static void close(String what, Tensor ref, Tensor got, int terms) {
        Tolerance.assertClose(what, Tolerance.toDouble(ref.toArray()), got.toArray(), 3e-6 * Math.sqrt(terms) + 1e-6, 1e-4);
    }

    @Test
    void conv2dForwardMatchesReference() {
        Random r = new Random(21);
        for (int[] c : CONV) {
            Conv2dShape s = conv(c);
            for (int variant = 0; variant < 4; variant++) {
                boolean relu = (variant & 1) != 0, bias = (variant & 2) != 0;
                try (Tensor x = random(r, s.batch(), s.inSize()); Tensor w = random(r, s.outChannels(), s.patchSize());
                        Tensor b = random(r, 1, s.outChannels()); Tensor y1 = Tensor.zeros(s.batch(), s.outSize());
                        Tensor y2 = Tensor.zeros(s.batch(), s.outSize())) {
                    ref.conv2dForward(s, x, w, bias ? b : null, y1, relu);
                    cpu.conv2dForward(s, x, w, bias ? b : null, y2, relu);
                    close("conv2d_forward " + s + " relu=" + relu + " bias=" + bias, y1, y2, s.patchSize());
                }
            }
        }
    }

    @Test
    void conv2dBackwardMatchesReference() {
        Random r = new Random(22);
        for (int[] c : CONV) {
            Conv2dShape s = conv(c);
            for (int variant = 0; variant < 4; variant++) {
                boolean relu = (variant & 1) != 0, full = (variant & 2) != 0;
                try (Tensor x = random(r, s.batch(), s.inSize()); Tensor w = random(r, s.outChannels(), s.patchSize());
                        Tensor y = random(r, s.batch(), s.outSize()); Tensor g = random(r, s.batch(), s.outSize());
                        Tensor dy1 = copy(g); Tensor dy2 = copy(g); Tensor dx1 = Tensor.zeros(s.batch(), s.inSize());
                        Tensor dx2 = Tensor.zeros(s.batch(), s.inSize()); Tensor dw1 = Tensor.zeros(s.outChannels(), s.patchSize());
                        Tensor dw2 = Tensor.zeros(s.outChannels(), s.patchSize()); Tensor db1 = Tensor.zeros(1, s.outChannels());
                        Tensor db2 = Tensor.zeros(1, s.outChannels())) {
                    dx2.fill(7f);  // overwritten, not accumulated
                    dw2.fill(7f);
                    ref.conv2dBackward(s, x, w, y, dy1, full ? dx1 : null, dw1, full ? db1 : null, relu);
                    cpu.conv2dBackward(s, x, w, y, dy2, full ? dx2 : null, dw2, full ? db2 : null, relu);
                    String what = s + " relu=" + relu + " dx,db=" + full;
                    close("conv2d_backward dy " + what, dy1, dy2, 1);
                    int perOut = s.batch() * s.outHeight() * s.outWidth();
                    close("conv2d_backward dw " + what, dw1, dw2, perOut);
                    if (full) {
                        close("conv2d_backward dx " + what, dx1, dx2, s.outChannels() * s.kernel() * s.kernel());
                        close("conv2d_backward db " + what, db1, db2, perOut);
                    }
                }
            }
        }
    }

    @Test
    void maxpool2dMatchesReference() {
        Random r = new Random(23);
        Pool2dShape[] shapes = {new Pool2dShape(1, 1, 1, 1, 1, 1), new Pool2dShape(2, 3, 4, 4, 2, 2),
            new Pool2dShape(3, 5, 7, 9, 2, 2), new Pool2dShape(1, 3, 7, 7, 3, 2), new Pool2dShape(2, 2, 5, 6, 2, 1),
            new Pool2dShape(4, 64, 28, 28, 2, 2)};
        for (Pool2dShape s : shapes) {
            try (Tensor x = random(r, s.batch(), s.inSize()); Tensor y1 = Tensor.zeros(s.batch(), s.outSize());
                    Tensor y2 = Tensor.zeros(s.batch(), s.outSize()); IntTensor a1 = new IntTensor(s.batch() * s.outSize());
                    IntTensor a2 = new IntTensor(s.batch() * s.outSize()); Tensor dy = random(r, s.batch(), s.outSize());
                    Tensor dx1 = Tensor.zeros(s.batch(), s.inSize()); Tensor dx2 = Tensor.zeros(s.batch(), s.inSize())) {
                // Ties: a few windows of equal values, the first must win on both.
                for (int i = 0; i + 1 < x.size(); i += 13) {
                    x.buffer().put(i + 1, x.buffer().get(i));
                }
                // A few NaNs (they win over numbers; the first of two NaNs wins).
                for (int i = 5; i < x.size(); i += 37) {
                    x.buffer().put(i, Float.NaN);
                    if (i % 2 == 1 && i + 1 < x.size()) {
                        x.buffer().put(i + 1, Float.NaN);
                    }
                }
                ref.maxpool2dForward(s, x, y1, a1);
                cpu.maxpool2dForward(s, x, y2, a2);
                Tolerance.assertClose("maxpool2d_forward y " + s, Tolerance.toDouble(y1.toArray()), y2.toArray(), 0, 0);
                org.junit.jupiter.api.Assertions.assertArrayEquals(a1.toArray(a1.size()), a2.toArray(a2.size()),
                        "maxpool2d_forward argmax " + s);
                dx2.fill(3f);
                ref.maxpool2dBackward(s, dy, a1, dx1);
                cpu.maxpool2dBackward(s, dy, a2, dx2);
                close("maxpool2d_backward dx " + s, dx1, dx2, s.kernel() * s.kernel());
            }
        }
    }

    @Test
    void batchnorm2dMatchesReference() {
        Random r = new Random(24);
        BatchNorm2dShape[] shapes = {new BatchNorm2dShape(2, 1, 1, 1), new BatchNorm2dShape(1, 3, 1, 2),
            new BatchNorm2dShape(3, 5, 7, 9), new BatchNorm2dShape(4, 64, 14, 14), new BatchNorm2dShape(1, 1, 1, 1)};
        for (BatchNorm2dShape s : shapes) {
            for (boolean training : new boolean[] {true, false}) {
                if (training && s.perChannel() < 2) {
                    continue;
                }
                Tensor[] t1 = new Tensor[8], t2 = new Tensor[8];
                try (Tensor x = random(r, s.batch(), s.size()); Tensor gamma = random(r, 1, s.channels());
                        Tensor beta = random(r, 1, s.channels()); Tensor rm = random(r, 1, s.channels());
                        Tensor rv0 = random(r, 1, s.channels()); Tensor dy = random(r, s.batch(), s.size())) {
                    for (int i = 0; i < rv0.size(); i++) {
                        rv0.buffer().put(i, 0.5f + Math.abs(rv0.buffer().get(i)));
                    }
                    x.copyFrom(scaled(x.toArray(), 3f, 1.5f));  // not already normalised
                    for (Tensor[] t : new Tensor[][] {t1, t2}) {
                        t[0] = copy(rm);
                        t[1] = copy(rv0);
                        t[2] = Tensor.zeros(s.batch(), s.size());
                        t[3] = Tensor.zeros(1, s.channels());
                        t[4] = Tensor.zeros(1, s.channels());
                        t[5] = Tensor.zeros(s.batch(), s.size());
                        t[6] = Tensor.zeros(1, s.channels());
                        t[7] = Tensor.zeros(1, s.channels());
                    }
                    Backend[] backends = {ref, cpu};
                    Tensor[][] ts = {t1, t2};
                    for (int k = 0; k < 2; k++) {
                        Tensor[] t = ts[k];
                        backends[k].batchnorm2dForward(s, x, gamma, beta, t[0], t[1], t[2], t[3], t[4], training, 0.1f, 1e-5f);
                        backends[k].batchnorm2dBackward(s, x, gamma, t[3], t[4], dy, t[5], t[6], t[7], training);
                    }
                    String[] names = {"running_mean", "running_var", "y", "save_mean", "save_invstd", "dx", "dgamma", "dbeta"};
                    for (int i = 0; i < names.length; i++) {
                        close("batchnorm2d " + names[i] + " " + s + " training=" + training, t1[i], t2[i], s.perChannel());
                    }
                } finally {
                    for (Tensor t : t1) {
                        if (t != null) {
                            t.close();
                        }
                    }
                    for (Tensor t : t2) {
                        if (t != null) {
                            t.close();
                        }
                    }
                }
            }
        }
    }

    private static float[] scaled(float[] v, float a, float b) {
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] * a + b;
        }
        return v;
    }

    @Test
    void badShapesAreInvalidInputNamingTheOpAndTheShapes() {
        Conv2dShape s = new Conv2dShape(2, 3, 5, 5, 4, 3, 1, 1);
        try (Tensor x = Tensor.zeros(2, s.inSize()); Tensor w = Tensor.zeros(4, 26); Tensor y = Tensor.zeros(2, s.outSize())) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> cpu.conv2dForward(s, x, w, null, y, false));
            assertTrue(e.getMessage().startsWith("conv2d_forward: w is 4 x 26, expected 4 x 27") && e.getMessage().contains("5x5"),
                    e.getMessage());
            e = assertThrows(InvalidInputException.class, () -> cpu.conv2dBackward(s, x, w, null, y, null, w, null, true));
            assertTrue(e.getMessage().startsWith("conv2d_backward: w is 4 x 26"), e.getMessage());
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> new Conv2dShape(1, 1, 2, 2, 1, 5, 1, 1));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> new Pool2dShape(1, 1, 1, 3, 2, 2));
        assertThrows(InvalidInputException.class, () -> new BatchNorm2dShape(1, 0, 2, 2));
        BatchNorm2dShape one = new BatchNorm2dShape(1, 2, 1, 1);
        try (Tensor x = Tensor.zeros(1, 2); Tensor c = Tensor.zeros(1, 2)) {
            e = assertThrows(InvalidInputException.class,
                    () -> cpu.batchnorm2dForward(one, x, c, c, c, c, x, null, null, true, 0.1f, 1e-5f));
            assertTrue(e.getMessage().contains("more than one value per channel"), e.getMessage());
        }
        Pool2dShape p = new Pool2dShape(1, 1, 2, 2, 2, 2);
        try (Tensor dy = Tensor.zeros(1, 1); Tensor dx = Tensor.zeros(1, 4); IntTensor a = new IntTensor(1)) {
            a.set(0, 4);  // outside the 2x2 plane: a bad argument, typed as such (exit 2)
            dev.cleave.nativ.NativeArgumentException n = assertThrows(dev.cleave.nativ.NativeArgumentException.class, () -> cpu.maxpool2dBackward(p, dy, a, dx));
            assertTrue(n.getMessage().contains("maxpool2d_backward") && n.getMessage().contains("outside"), n.getMessage());
            assertThrows(InvalidInputException.class, () -> ref.maxpool2dBackward(p, dy, a, dx));
        }
    }

    /** The same step on 1 and 2 threads: forward and dx identical, dw equal up to rounding (summed in thread order). */
    @Test
    void conv2dDoesNotDependOnTheThreadCountBeyondRounding() {
        conv2dOnOneAndTwoThreads(new Conv2dShape(5, 3, 9, 10, 4, 3, 1, 1));  // im2col
        conv2dOnOneAndTwoThreads(new Conv2dShape(5, 9, 9, 10, 8, 3, 1, 1));  // Winograd
    }

    private static void conv2dOnOneAndTwoThreads(Conv2dShape s) {
        Random r = new Random(25);
        int n = s.batch(), out = s.outChannels();
        try (CpuBackend one = new CpuBackend(1); Tensor x = random(r, n, s.inSize()); Tensor w = random(r, out, s.patchSize());
                Tensor y1 = Tensor.zeros(n, s.outSize()); Tensor y2 = Tensor.zeros(n, s.outSize());
                Tensor dy1 = random(r, n, s.outSize()); Tensor dy2 = copy(dy1); Tensor dw1 = Tensor.zeros(out, s.patchSize());
                Tensor dw2 = Tensor.zeros(out, s.patchSize()); Tensor dx1 = Tensor.zeros(n, s.inSize());
                Tensor dx2 = Tensor.zeros(n, s.inSize())) {
            one.conv2dForward(s, x, w, null, y1, true);
            one.conv2dBackward(s, x, w, y1, dy1, dx1, dw1, null, true);
            try (CpuBackend two = new CpuBackend(2)) {  // the thread count is the library's: set it back to 2
                two.conv2dForward(s, x, w, null, y2, true);
                two.conv2dBackward(s, x, w, y2, dy2, dx2, dw2, null, true);
            }
            Tolerance.assertClose("conv2d_forward 1 vs 2 threads " + s, Tolerance.toDouble(y1.toArray()), y2.toArray(), 0, 0);
            Tolerance.assertClose("conv2d_backward dx 1 vs 2 threads " + s, Tolerance.toDouble(dx1.toArray()), dx2.toArray(), 0, 0);
            close("conv2d_backward dw 1 vs 2 threads " + s, dw1, dw2, n * s.outHeight() * s.outWidth());
        }
    }
}
