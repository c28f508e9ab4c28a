package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.Tolerance;
import dev.cleave.nativ.NativeArgumentException;
import dev.cleave.nativ.NativeNumericException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fused training-step ops on the host backends (issue 17): on java and cpu each is the
 * unfused ops in sequence, so each backend's fused op gives that backend's unfused results bit for
 * bit, and the two backends agree within the unfused ops' tolerances. Also what an XentLog record
 * reports and load_batch's checks. (The CUDA versions: dev.cleave.cuda.CudaFusedStepParityChecks.)
 */
class FusedOpsTest {
    private static CpuBackend cpu;
    private static JavaBackend ref;

    @BeforeAll
    static void setUp() {
        cpu = new CpuBackend(2);
        ref = new JavaBackend();
    }

    @AfterAll
    static void tearDown() {
        cpu.close();
    }

    private static Tensor random(Random r, int rows, int cols, boolean relu) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) {
            float v = (float) r.nextGaussian();
            t.buffer().put(i, relu ? Math.max(v, 0f) : v);
        }
        return t;
    }

    private static Tensor copy(Tensor t) {
        Tensor c = Tensor.zeros(t.rows(), t.cols());
        c.copyFrom(t);
        return c;
    }

    @Test
    void linearDropoutOpsAreTheUnfusedOpsOnEachHostBackend() {
        Random r = new Random(5);
        int batch = 9, in = 37, out = 21;
        float[][] fusedDx = new float[2][];
        Backend[] backends = {ref, cpu};
        for (int k = 0; k < 2; k++) {
            Backend b = backends[k];
            try (Tensor x = random(r, batch, in, true); Tensor w = random(r, out, in, false); Tensor bias = random(r, 1, out, false);
                    Tensor y1 = Tensor.zeros(batch, out); Tensor m1 = Tensor.zeros(batch, out);
                    Tensor y2 = Tensor.zeros(batch, out); Tensor m2 = Tensor.zeros(batch, out);
                    Tensor xMask = Tensor.zeros(batch, in); Tensor dy = random(r, batch, out, false);
                    Tensor dx1 = Tensor.zeros(batch, in); Tensor dw1 = Tensor.zeros(out, in); Tensor db1 = Tensor.zeros(1, out);
                    Tensor dx2 = Tensor.zeros(batch, in); Tensor dw2 = Tensor.zeros(out, in); Tensor db2 = Tensor.zeros(1, out)) {
                b.linearDropoutForward(x, w, bias, y1, true, m1, 0.3f, 11, 4);
                b.linearForward(x, w, bias, y2, true);
                b.dropoutForward(y2, m2, 0.3f, 11, 4);
                assertArrayEquals(y2.toArray(), y1.toArray(), b.device() + " linear_dropout_forward y");
                assertArrayEquals(m2.toArray(), m1.toArray(), b.device() + " linear_dropout_forward mask");

                for (int i = 0; i < xMask.size(); i++) {
                    xMask.buffer().put(i, i % 3 == 0 ? 0f : 1.25f);
                }
                Tensor dyCopy = copy(dy);
                b.linearDropoutBackward(x, w, xMask, dy, dx1, dw1, db1, true);
                assertArrayEquals(dyCopy.toArray(), dy.toArray(), b.device() + " linear_dropout_backward leaves dy");
                b.linearBackward(x, w, null, dyCopy, dx2, dw2, db2, false);
                b.dropoutBackward(dx2, xMask);
                float[] expected = dx2.toArray();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = x.buffer().get(i) > 0f ? expected[i] : 0f;
                }
                assertArrayEquals(expected, dx1.toArray(), b.device() + " linear_dropout_backward dx");
                assertArrayEquals(dw2.toArray(), dw1.toArray(), b.device() + " linear_dropout_backward dw");
                assertArrayEquals(db2.toArray(), db1.toArray(), b.device() + " linear_dropout_backward db");
                fusedDx[k] = dx1.toArray();
                dyCopy.close();
            }
            r = new Random(5); // the same inputs for the other backend
        }
        Tolerance.assertClose("linear_dropout_backward dx, cpu vs java", fusedDx[0], fusedDx[1], 2e-6 * 21, 1e-4);
    }

    @Test
    void adamUpdateMultiIsWeightPenaltyThenAdamUpdateOnEachHostBackend() {
        for (Backend b : new Backend[] {ref, cpu}) {
            Random r = new Random(6);
            int[] sizes = {1, 17, 300};
            List<Tensor> w1 = new ArrayList<>(), w2 = new ArrayList<>(), g = new ArrayList<>(), m1 = new ArrayList<>(),
                    m2 = new ArrayList<>(), v1 = new ArrayList<>(), v2 = new ArrayList<>(), masks = new ArrayList<>();
            float[] l1 = {1e-3f, 0f, 0f}, l2 = {1e-2f, 0f, 3e-3f};
            for (int t = 0; t < sizes.length; t++) {
                Tensor w = random(r, 1, sizes[t], false);
                w1.add(w);
                w2.add(copy(w));
                g.add(random(r, 1, sizes[t], false));
                Tensor m = random(r, 1, sizes[t], false), v = random(r, 1, sizes[t], true);
                m1.add(m);
                m2.add(copy(m));
                v1.add(v);
                v2.add(copy(v));
                Tensor mask = null;
                if (t == 2) {
                    mask = Tensor.zeros(1, sizes[t]);
                    for (int i = 0; i < sizes[t]; i++) {
                        mask.buffer().put(i, i % 4 == 0 ? 0f : 1f);
                    }
                }
                masks.add(mask);
            }
            List<float[]> gBefore = g.stream().map(Tensor::toArray).toList();
            b.adamUpdateMulti(w1, g, m1, v1, masks, l1, l2, 1e-2f, 0.9f, 0.999f, 1e-8f, 4);
            for (int t = 0; t < sizes.length; t++) {
                assertArrayEquals(gBefore.get(t), g.get(t).toArray(), b.device() + " adam_update_multi leaves g");
                Tensor gt = copy(g.get(t));
                if (l1[t] != 0f || l2[t] != 0f) {
                    b.weightPenalty(w2.get(t), gt, l1[t], l2[t]);
                }
                b.adamUpdate(w2.get(t), gt, m2.get(t), v2.get(t), masks.get(t), 1e-2f, 0.9f, 0.999f, 1e-8f, 4);
                assertArrayEquals(w2.get(t).toArray(), w1.get(t).toArray(), b.device() + " adam_update_multi w, tensor " + t);
                assertArrayEquals(m2.get(t).toArray(), m1.get(t).toArray(), b.device() + " adam_update_multi m, tensor " + t);
                assertArrayEquals(v2.get(t).toArray(), v1.get(t).toArray(), b.device() + " adam_update_multi v, tensor " + t);
                gt.close();
            }
            for (List<Tensor> list : List.of(w1, w2, g, m1, m2, v1, v2, masks)) {
                list.stream().filter(java.util.Objects::nonNull).forEach(Tensor::close);
            }
        }
    }

    @Test
    void softmaxXentRecordKeepsSoftmaxXentsSumsAndReportsTheFirstBadRow() {
        Random r = new Random(7);
        int batch = 6, classes = 4;
        for (Backend b : new Backend[] {ref, cpu}) {
            try (Tensor z = random(r, batch, classes, false); IntTensor labels = new IntTensor(batch);
                    Tensor d1 = Tensor.zeros(batch, classes); Tensor d2 = Tensor.zeros(batch, classes); XentLog log = b.xentLog(3)) {
                for (int i = 0; i < batch; i++) {
                    labels.set(i, i % classes);
                }
                Backend.XentResult plain = b.softmaxXent(z, labels, d1, 0.5f);
                b.softmaxXentRecord(z, labels, d2, 0.5f, log, 2);
                XentLog.Record rec = log.read(3)[2];
                assertEquals(plain.lossSum(), rec.lossSum(), 0.0, b.device() + " loss sum");
                assertEquals(plain.correct(), rec.correct(), b.device() + " correct");
                assertArrayEquals(d1.toArray(), d2.toArray(), b.device() + " dlogits");
                rec.check(classes); // no bad row: no exception

                labels.set(4, 9);
                z.set(1, 2, Float.NaN);
                z.set(5, 0, Float.POSITIVE_INFINITY);
                b.softmaxXentRecord(z, labels, d2, 0.5f, log, 0);
                XentLog.Record bad = log.read(1)[0];
                assertEquals(4, bad.badLabelRow(), b.device() + " bad label row");
                assertEquals(9, bad.badLabel());
                assertEquals(1, bad.nonfiniteRow(), b.device() + " first non-finite row");
                for (int j = 0; j < classes; j++) {
                    assertEquals(0f, d2.get(1, j), "a bad row's dlogits are 0");
                    assertEquals(0f, d2.get(4, j), "a bad row's dlogits are 0");
                }
                // the non-finite row comes first: a divergence, as softmax_xent reports it
                NativeNumericException e = assertThrows(NativeNumericException.class, () -> bad.check(classes));
                assertTrue(e.getMessage().contains("row 1 has a non-finite logit"), e.getMessage());
                XentLog.Record labelFirst = new XentLog.Record(0, 0, 0, 7, 3);
                NativeArgumentException a = assertThrows(NativeArgumentException.class, () -> labelFirst.check(classes));
                assertTrue(a.getMessage().contains("label 7 of row 0 is outside [0, 4)"), a.getMessage());
            }
        }
    }

    @Test
    void loadBatchGathersTheRowsAndChecksItsArguments() {
        float[] images = new float[5 * 3];
        for (int i = 0; i < images.length; i++) {
            images[i] = i;
        }
        int[] labels = {0, 1, 2, 3, 4};
        try (Tensor x = Tensor.zeros(4, 3); IntTensor y = new IntTensor(4)) {
            cpu.loadBatch(images, labels, new int[] {4, 0, 2, 1, 3}, 1, 2, x, y);
            assertArrayEquals(new float[] {0, 1, 2, 6, 7, 8}, java.util.Arrays.copyOf(x.toArray(), 6));
            assertArrayEquals(new int[] {0, 2}, y.toArray(2));
            assertThrows(IllegalArgumentException.class, () -> cpu.loadBatch(images, labels, null, 4, 2, x, y));
            assertThrows(IllegalArgumentException.class, () -> cpu.loadBatch(images, labels, null, 0, 5, x, y));
            assertThrows(IllegalArgumentException.class, () -> cpu.loadBatch(new float[7], labels, null, 0, 2, x, y));
            cpu.loadBatch(images, labels, null, 2, 3, x, y);
            assertArrayEquals(new float[] {6, 7, 8, 9, 10, 11, 12, 13, 14}, java.util.Arrays.copyOf(x.toArray(), 9));
            assertArrayEquals(new int[] {2, 3, 4}, y.toArray(3));
            NativeArgumentException e = assertThrows(NativeArgumentException.class,
                    () -> cpu.loadBatch(images, labels, new int[] {0, 5}, 0, 2, x, y));
            assertTrue(e.getMessage().contains("order[1] = 5 is outside [0, 5)"), e.getMessage());
        }
    }

    /** The cpu kernel's gather (with prefetching) puts the same rows as the host copy. */
    @Test
    void loadBatchOfAShuffledSetMatchesTheJavaBackend() {
        int rows = 1000, features = 784, batch = 128;
        Random r = new Random(5);
        float[] images = new float[rows * features];
        for (int i = 0; i < images.length; i++) {
            images[i] = r.nextFloat();
        }
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) {
            labels[i] = r.nextInt(10);
        }
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        for (int i = rows - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        try (Tensor x1 = Tensor.zeros(batch, features); IntTensor y1 = new IntTensor(batch);
                Tensor x2 = Tensor.zeros(batch, features); IntTensor y2 = new IntTensor(batch)) {
            for (int rowsLoaded : new int[] {batch, 77, 31}) { // 2 threads split 128 and 77 rows; 31 stay on one
                for (int first : new int[] {0, 500, rows - rowsLoaded}) {
                    x1.fill(-1f);
                    x2.fill(-2f);
                    cpu.loadBatch(images, labels, order, first, rowsLoaded, x1, y1);
                    ref.loadBatch(images, labels, order, first, rowsLoaded, x2, y2);
                    int n = rowsLoaded * features;
                    assertArrayEquals(java.util.Arrays.copyOf(x2.toArray(), n), java.util.Arrays.copyOf(x1.toArray(), n),
                            rowsLoaded + " rows from " + first);
                    assertArrayEquals(y2.toArray(rowsLoaded), y1.toArray(rowsLoaded), rowsLoaded + " labels from " + first);
                    if (rowsLoaded < batch) {
                        assertEquals(-1f, x1.toArray()[n], "the rows after the batch stay as they were");
                    }
                }
            }
        }
    }
}
