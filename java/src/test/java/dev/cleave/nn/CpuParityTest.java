package dev.cleave.nn;

import dev.cleave.Tolerance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every cpu kernel against the java backend (the reference), on awkward shapes. */
class CpuParityTest {
    private static CpuBackend cpu;
    private static JavaBackend ref;
    // batch, in, out: one row, odd widths, widths not a multiple of 8 or 16, and the F21 shape.
    private static final int[][] SHAPES = {{1, 1, 1}, {1, 7, 3}, {3, 17, 5}, {5, 33, 31}, {13, 64, 10}, {128, 784, 256}, {2, 1, 9}};

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

    @Test
    void linearForwardMatchesReference() {
        Random r = new Random(11);
        for (int[] s : SHAPES) {
            for (boolean relu : new boolean[] {false, true}) {
                for (boolean bias : new boolean[] {false, true}) {
                    try (Tensor x = random(r, s[0], s[1]); Tensor w = random(r, s[2], s[1]); Tensor b = random(r, 1, s[2]);
                            Tensor y1 = Tensor.zeros(s[0], s[2]); Tensor y2 = Tensor.zeros(s[0], s[2])) {
                        ref.linearForward(x, w, bias ? b : null, y1, relu);
                        cpu.linearForward(x, w, bias ? b : null, y2, relu);
                        Tolerance.assertClose("linear_forward " + Arrays.toString(s) + " relu=" + relu + " bias=" + bias,
                                Tolerance.toDouble(y1.toArray()), y2.toArray(), 2e-6 * s[1], 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void linearBackwardMatchesReference() {
        Random r = new Random(12);
        for (int[] s : SHAPES) {
            for (boolean relu : new boolean[] {false, true}) {
                try (Tensor x = random(r, s[0], s[1]); Tensor w = random(r, s[2], s[1]); Tensor y = Tensor.zeros(s[0], s[2]);
                        Tensor dy1 = random(r, s[0], s[2]); Tensor dy2 = copy(dy1);
                        Tensor dx1 = Tensor.zeros(s[0], s[1]); Tensor dx2 = Tensor.zeros(s[0], s[1]);
                        Tensor dw1 = Tensor.zeros(s[2], s[1]); Tensor dw2 = Tensor.zeros(s[2], s[1]);
                        Tensor db1 = Tensor.zeros(1, s[2]); Tensor db2 = Tensor.zeros(1, s[2])) {
                    ref.linearForward(x, w, null, y, relu);
                    ref.linearBackward(x, w, y, dy1, dx1, dw1, db1, relu);
                    cpu.linearBackward(x, w, y, dy2, dx2, dw2, db2, relu);
                    String what = Arrays.toString(s) + " relu=" + relu;
                    Tolerance.assertClose("linear_backward dy " + what, Tolerance.toDouble(dy1.toArray()), dy2.toArray(), 0, 0);
                    Tolerance.assertClose("linear_backward dx " + what, Tolerance.toDouble(dx1.toArray()), dx2.toArray(), 2e-6 * s[2], 1e-4);
                    Tolerance.assertClose("linear_backward dw " + what, Tolerance.toDouble(dw1.toArray()), dw2.toArray(), 2e-6 * s[0], 1e-4);
                    Tolerance.assertClose("linear_backward db " + what, Tolerance.toDouble(db1.toArray()), db2.toArray(), 2e-6 * s[0], 1e-4);
                }
            }
        }
    }

    @Test
    void softmaxXentMatchesReference() {
        Random r = new Random(13);
        for (int[] s : new int[][] {{1, 1}, {1, 10}, {7, 3}, {128, 10}, {5, 33}}) {
            try (Tensor z = random(r, s[0], s[1]); IntTensor labels = new IntTensor(s[0]);
                    Tensor d1 = Tensor.zeros(s[0], s[1]); Tensor d2 = Tensor.zeros(s[0], s[1])) {
                for (int i = 0; i < s[0]; i++) {
                    labels.set(i, r.nextInt(s[1]));
                }
                Backend.XentResult a = ref.softmaxXent(z, labels, d1, 1f / s[0]);
                Backend.XentResult b = cpu.softmaxXent(z, labels, d2, 1f / s[0]);
                assertEquals(a.lossSum(), b.lossSum(), 1e-5 * Math.max(1, a.lossSum()));
                assertEquals(a.correct(), b.correct());
                Tolerance.assertClose("softmax_xent " + Arrays.toString(s), Tolerance.toDouble(d1.toArray()), d2.toArray(), 1e-6, 1e-5);
            }
        }
    }

    @Test
    void softmaxXentRejectsBadLabelAndNonFiniteLogit() {
        try (Tensor z = Tensor.zeros(2, 3); IntTensor labels = new IntTensor(2)) {
            labels.set(1, 3);
            dev.cleave.nativ.NativeArgumentException e = assertThrows(dev.cleave.nativ.NativeArgumentException.class,
                    () -> cpu.softmaxXent(z, labels, null, 1f));
            assertEquals(true, e.getMessage().contains("label 3 of row 1"), e.getMessage());
            assertEquals("softmax_xent", e.op());
            assertEquals("native/src/softmax_xent.cpp", e.file());
            assertEquals(true, e.line() > 0, e.getMessage());
            labels.set(1, 0);
            z.set(0, 1, Float.NaN);
            dev.cleave.nativ.NativeNumericException n = assertThrows(dev.cleave.nativ.NativeNumericException.class,
                    () -> cpu.softmaxXent(z, labels, null, 1f));
            assertEquals(dev.cleave.nativ.NativeStatus.NUMERIC_FAILURE, n.status());
            assertThrows(ArithmeticException.class, () -> ref.softmaxXent(z, labels, null, 1f));
        }
    }

    @Test
    void dropoutMatchesReferenceBitForBit() {
        Random r = new Random(14);
        for (int n : new int[] {1, 17, 1000, 100_000}) {
            try (Tensor x1 = random(r, 1, n); Tensor x2 = copy(x1); Tensor m1 = Tensor.zeros(1, n); Tensor m2 = Tensor.zeros(1, n);
                    Tensor d1 = random(r, 1, n); Tensor d2 = copy(d1)) {
                ref.dropoutForward(x1, m1, 0.3f, 42, 7);
                cpu.dropoutForward(x2, m2, 0.3f, 42, 7);
                assertArrayEquals(m1.toArray(), m2.toArray(), "dropout masks n=" + n);
                assertArrayEquals(x1.toArray(), x2.toArray(), "dropout outputs n=" + n);
                ref.dropoutBackward(d1, m1);
                cpu.dropoutBackward(d2, m2);
                assertArrayEquals(d1.toArray(), d2.toArray(), "dropout backward n=" + n);
            }
        }
    }

    @Test
    void weightPenaltyMatchesReference() {
        Random r = new Random(15);
        for (int n : new int[] {1, 33, 70_000}) {
            try (Tensor w = random(r, 1, n); Tensor g1 = random(r, 1, n); Tensor g2 = copy(g1)) {
                double v1 = ref.weightPenalty(w, g1, 5e-5f, 1e-3f);
                double v2 = cpu.weightPenalty(w, g2, 5e-5f, 1e-3f);
                assertEquals(v1, v2, 1e-6 * Math.abs(v1));
                Tolerance.assertClose("weight_penalty n=" + n, Tolerance.toDouble(g1.toArray()), g2.toArray(), 1e-6, 1e-6);
            }
        }
    }

    @Test
    void adamUpdateMatchesReference() {
        Random r = new Random(16);
        for (int n : new int[] {1, 31, 70_000}) {
            for (boolean masked : new boolean[] {false, true}) {
            try (Tensor w1 = random(r, 1, n); Tensor w2 = copy(w1); Tensor m1 = Tensor.zeros(1, n); Tensor m2 = Tensor.zeros(1, n);
                    Tensor v1 = Tensor.zeros(1, n); Tensor v2 = Tensor.zeros(1, n); Tensor g = Tensor.zeros(1, n);
                    Tensor mask = Tensor.zeros(1, n)) {
                for (int i = 0; i < n; i++) {
                    mask.buffer().put(i, r.nextBoolean() ? 1f : 0f);
                }
                for (long step = 1; step <= 3; step++) {
                    for (int i = 0; i < n; i++) {
                        g.buffer().put(i, (float) r.nextGaussian());
                    }
                    ref.adamUpdate(w1, g, m1, v1, masked ? mask : null, 1e-3f, 0.9f, 0.999f, 1e-8f, step);
                    cpu.adamUpdate(w2, g, m2, v2, masked ? mask : null, 1e-3f, 0.9f, 0.999f, 1e-8f, step);
                }
                if (masked) {
                    for (int i = 0; i < n; i++) {
                        if (mask.buffer().get(i) == 0f) {
                            assertEquals(0f, w2.buffer().get(i), "masked weight " + i + " must stay zero");
                        }
                    }
                }
                Tolerance.assertClose("adam_update w n=" + n, Tolerance.toDouble(w1.toArray()), w2.toArray(), 1e-6, 1e-6);
                Tolerance.assertClose("adam_update m n=" + n, Tolerance.toDouble(m1.toArray()), m2.toArray(), 1e-7, 1e-6);
                Tolerance.assertClose("adam_update v n=" + n, Tolerance.toDouble(v1.toArray()), v2.toArray(), 1e-7, 1e-5);
            }
            }
        }
    }

    @Test
    void pruneMaskMatchesReferenceAndPrunesExactly() {
        Random r = new Random(17);
        for (int n : new int[] {1, 10, 33, 65_536}) {
            for (float sparsity : new float[] {0f, 0.5f, 0.73f, 0.9f, 1f}) {
                try (Tensor w1 = random(r, 1, n); Tensor w2 = copy(w1); Tensor m1 = Tensor.zeros(1, n); Tensor m2 = Tensor.zeros(1, n)) {
                    for (int i = 0; i < n; i += 7) {
                        w1.buffer().put(i, 0.25f); // ties, broken by index
                        w2.buffer().put(i, 0.25f);
                    }
                    ref.pruneMask(w1, m1, sparsity);
                    cpu.pruneMask(w2, m2, sparsity);
                    assertArrayEquals(m1.toArray(), m2.toArray(), "prune_mask n=" + n + " sparsity=" + sparsity);
                    assertArrayEquals(w1.toArray(), w2.toArray());
                    int zeros = 0;
                    for (float v : m2.toArray()) {
                        zeros += v == 0f ? 1 : 0;
                    }
                    assertEquals(Math.round(sparsity * n), zeros, "pruned count n=" + n + " sparsity=" + sparsity);
                }
            }
        }
    }

    @Test
    void shapeMismatchIsAClearError() {
        try (Tensor x = Tensor.zeros(2, 3); Tensor w = Tensor.zeros(4, 5); Tensor y = Tensor.zeros(2, 4)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.linearForward(x, w, null, y, true));
            assertEquals(true, e.getMessage().startsWith("linear_forward: w is 4 x 5"), e.getMessage());
        }
    }

    @Test
    void viewsShareMemory() {
        try (Tensor t = Tensor.zeros(4, 3)) {
            Tensor v = t.rows(2);
            v.set(1, 2, 5f);
            assertEquals(5f, t.get(1, 2));
            v.close();
            assertEquals(5f, t.get(1, 2));
        }
    }
}
