package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cleave.Tolerance;
import dev.cleave.modular.Enmeshment;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nativ.ModularKernels;
import dev.cleave.nn.Backend;
import dev.cleave.nn.IntTensor;
import dev.cleave.nn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The training ops of the CUDA library against their cpu counterparts: linear_forward,
 * linear_backward, softmax_xent (values and errors), dropout (bit for bit), weight_penalty,
 * adam_update, enmeshment (values and errors), and one training step chaining them as a backend
 * would. Part of the suite of {@link CudaParityChecks}.
 */
abstract class CudaTrainingParityChecks extends CudaParityChecks {
    /** Linear layer shapes {batch, in, out}: single elements, odd sizes, partial 32- and 64-tiles. */
    private static final int[][] LINEAR = {{1, 1, 1}, {1, 7, 3}, {3, 17, 5}, {2, 1, 9}, {5, 33, 31}, {13, 64, 10},
        {70, 37, 130}, {130, 45, 200}, {150, 130, 20}};
    private static final int SMALL_LINEAR = 5;

    private List<int[]> linearShapes(Schedule s) {
        List<int[]> shapes = new ArrayList<>(Arrays.asList(LINEAR).subList(0, s.small() ? SMALL_LINEAR : LINEAR.length));
        if (!s.small()) {
            shapes.addAll(Arrays.asList(extraLinearShapes()));
        }
        return shapes;
    }

    // ---- linear ----
    @Test
    @Order(1)
    void linearForwardMatchesCpu() {
        Random r = new Random(101);
        forEachSchedule(s -> {
            for (int[] shape : linearShapes(s)) {
                int batch = shape[0], in = shape[1], out = shape[2];
                for (int variant = 0; variant < 4; variant++) {
                    boolean relu = (variant & 1) != 0, bias = (variant & 2) != 0;
                    float[] x = gaussian(r, batch * in, 1), w = gaussian(r, out * in, 1), b = gaussian(r, out, 1);
                    float[] ref;
                    try (Tensor tx = tensor(x, batch, in); Tensor tw = tensor(w, out, in); Tensor tb = row(b);
                            Tensor ty = Tensor.zeros(batch, out)) {
                        cpu.linearForward(tx, tw, bias ? tb : null, ty, relu);
                        ref = ty.toArray();
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer db = dev(b);
                            CudaBuffer dy = CudaBuffer.allocate(api(), 4L * batch * out)) {
                        api().check(api().linearForward(dx.address(), dw.address(), bias ? db.address() : 0,
                                dy.address(), batch, in, out, relu ? 1 : 0));
                        Tolerance.assertClose("linear_forward " + Arrays.toString(shape) + " relu=" + relu + " bias=" + bias
                                + " on " + s.name(), ref, dy.toFloats(), 4e-6 * in, 1e-4);
                    }
                }
            }
        });
        verified("linear_forward");
    }

    @Test
    @Order(2)
    void linearBackwardMatchesCpu() {
        Random r = new Random(102);
        forEachSchedule(s -> {
            for (int[] shape : linearShapes(s)) {
                int batch = shape[0], in = shape[1], out = shape[2];
                for (int variant = 0; variant < 4; variant++) {
                    boolean relu = (variant & 1) != 0, withDxDb = (variant & 2) != 0;
                    float[] x = gaussian(r, batch * in, 1), w = gaussian(r, out * in, 1), g = gaussian(r, batch * out, 1);
                    float[] y = gaussian(r, batch * out, 1);  // a post-ReLU output: negatives are zeroed
                    for (int i = 0; i < y.length; i++) {
                        y[i] = Math.max(y[i], 0f);
                    }
                    float[] refDy, refDx = null, refDw, refDb = null;
                    try (Tensor tx = tensor(x, batch, in); Tensor tw = tensor(w, out, in); Tensor ty = tensor(y, batch, out);
                            Tensor tdy = tensor(g, batch, out); Tensor tdx = Tensor.zeros(batch, in);
                            Tensor tdw = Tensor.zeros(out, in); Tensor tdb = Tensor.zeros(1, out)) {
                        cpu.linearBackward(tx, tw, ty, tdy, withDxDb ? tdx : null, tdw, withDxDb ? tdb : null, relu);
                        refDy = tdy.toArray();
                        refDw = tdw.toArray();
                        if (withDxDb) {
                            refDx = tdx.toArray();
                            refDb = tdb.toArray();
                        }
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer dy = dev(y); CudaBuffer ddy = dev(g);
                            CudaBuffer ddx = CudaBuffer.allocate(api(), 4L * batch * in);
                            CudaBuffer ddw = CudaBuffer.allocate(api(), 4L * out * in);
                            CudaBuffer ddb = CudaBuffer.allocate(api(), 4L * out)) {
                        api().check(api().linearBackward(dx.address(), dw.address(), relu ? dy.address() : 0,
                                ddy.address(), withDxDb ? ddx.address() : 0, ddw.address(), withDxDb ? ddb.address() : 0,
                                batch, in, out, relu ? 1 : 0));
                        String what = Arrays.toString(shape) + " relu=" + relu + " dx,db=" + withDxDb + " on " + s.name();
                        Compare.bits("linear_backward dy (masked in place) " + what, refDy, ddy.toFloats());
                        Tolerance.assertClose("linear_backward dw " + what, refDw, ddw.toFloats(), 4e-6 * batch, 1e-4);
                        if (withDxDb) {
                            Tolerance.assertClose("linear_backward dx " + what, refDx, ddx.toFloats(), 4e-6 * out, 1e-4);
                            Tolerance.assertClose("linear_backward db " + what, refDb, ddb.toFloats(), 4e-6 * batch, 1e-4);
                        }
                    }
                }
            }
        });
        verified("linear_backward");
    }

    // ---- softmax_xent ----
    private record Xent(double loss, int correct, float[] dlogits, String error, dev.cleave.nativ.NativeStatus status) {}

    private Xent cpuXent(float[] z, int[] labels, int batch, int classes, float scale, boolean grad) {
        try (Tensor tz = tensor(z, batch, classes); IntTensor tl = ints(labels); Tensor td = Tensor.zeros(batch, classes)) {
            try {
                Backend.XentResult res = cpu.softmaxXent(tz, tl, grad ? td : null, scale);
                return new Xent(res.lossSum(), res.correct(), td.toArray(), null, dev.cleave.nativ.NativeStatus.OK);
            } catch (dev.cleave.nativ.NativeArgumentException | dev.cleave.nativ.NativeNumericException e) {
                return new Xent(0, 0, null, e.getMessage(), ((dev.cleave.nativ.NativeFailure) e).status());
            }
        }
    }

    private Xent cudaXent(float[] z, int[] labels, int batch, int classes, float scale, boolean grad) {
        try (CudaBuffer dz = dev(z); CudaBuffer dl = dev(labels); CudaBuffer dd = CudaBuffer.zeros(api(), (long) batch * classes);
                DoublePointer loss = new DoublePointer(1); IntPointer correct = new IntPointer(1)) {
            int status = api().softmaxXent(dz.address(), dl.address(), grad ? dd.address() : 0, batch, classes, scale, loss,
                    correct);
            if (status != 0) {
                return new Xent(0, 0, null, api().lastError(), dev.cleave.nativ.NativeStatus.of(status));
            }
            return new Xent(loss.get(), correct.get(), dd.toFloats(), null, dev.cleave.nativ.NativeStatus.OK);
        }
    }

    @Test
    @Order(3)
    void softmaxXentMatchesCpu() {
        Random r = new Random(103);
        int[][] shapes = {{1, 1}, {1, 10}, {19, 10}, {5, 77}, {3, 33}, {40, 3}, {9, 1000}, {17, 32}};
        forEachSchedule(s -> {
            for (int c = 0; c < (s.small() ? 4 : shapes.length); c++) {
                int batch = shapes[c][0], classes = shapes[c][1];
                for (boolean grad : new boolean[] {true, false}) {
                    float[] z = gaussian(r, batch * classes, 3);
                    int[] labels = r.ints(batch, 0, classes).toArray();
                    float scale = 1f / batch;
                    Xent ref = cpuXent(z, labels, batch, classes, scale, grad);
                    Xent got = cudaXent(z, labels, batch, classes, scale, grad);
                    String what = "softmax_xent " + batch + " x " + classes + " grad=" + grad + " on " + s.name();
                    assertEquals(null, got.error(), what);
                    assertEquals(ref.correct(), got.correct(), what + ": correct count");
                    Tolerance.assertClose(what + ": loss sum", new double[] {ref.loss()}, new double[] {got.loss()}, 1e-6 * batch, 1e-6);
                    if (grad) {
                        Tolerance.assertClose(what + ": dlogits", ref.dlogits(), got.dlogits(), 1e-7, 1e-5);
                    }
                }
            }
            // Ties: the first index of the max is the prediction, as on the cpu.
            int classes = 40;
            float[] z = new float[4 * classes];
            for (int row = 0; row < 4; row++) {
                z[row * classes + 3] = 5f;
                z[row * classes + 35] = 5f;
            }
            int[] labels = {3, 35, 3, 0};
            Xent ref = cpuXent(z, labels, 4, classes, 1f, true);
            Xent got = cudaXent(z, labels, 4, classes, 1f, true);
            assertEquals(2, ref.correct(), "cpu ties");
            assertEquals(ref.correct(), got.correct(), "softmax_xent ties on " + s.name());
            Tolerance.assertClose("softmax_xent ties on " + s.name(), ref.dlogits(), got.dlogits(), 1e-7, 1e-5);
        });
        verified("softmax_xent");
    }

    @Test
    @Order(4)
    void softmaxXentErrorsMatchCpu() {
        Random r = new Random(104);
        int batch = 6, classes = 10;
        forEachSchedule(s -> {
            // {row of a bad label or -1, row of a NaN logit or -1, row of an infinite logit or -1}
            int[][] cases = {{2, -1, -1}, {-1, 1, -1}, {-1, -1, 4}, {0, 0, -1}, {3, 1, -1}, {1, 3, -1}};
            for (int[] c : cases) {
                float[] z = gaussian(r, batch * classes, 1);
                int[] labels = r.ints(batch, 0, classes).toArray();
                if (c[0] >= 0) {
                    labels[c[0]] = c[0] % 2 == 0 ? classes : -1;
                }
                if (c[1] >= 0) {
                    z[c[1] * classes + 7] = Float.NaN;
                }
                if (c[2] >= 0) {
                    z[c[2] * classes] = Float.POSITIVE_INFINITY;
                }
                Xent ref = cpuXent(z, labels, batch, classes, 1f, true);
                Xent got = cudaXent(z, labels, batch, classes, 1f, true);
                String what = "softmax_xent error case " + Arrays.toString(c) + " on " + s.name();
                assertNotEquals(null, ref.error(), what + ": the cpu should fail");
                assertNotEquals(null, got.error(), what + ": cuda should fail like the cpu (" + ref.error() + ")");
                assertEquals(Compare.withoutSource(ref.error()), Compare.withoutSource(got.error()), what);
                assertEquals(ref.status(), got.status(), what + ": the same status on both");
            }
        });
    }

    // ---- dropout ----
    private static final int[] LENGTHS = {1, 7, 255, 256, 257, 1000, 4099, 300001};

    @Test
    @Order(5)
    void dropoutForwardMatchesCpuBitForBit() {
        Random r = new Random(105);
        forEachSchedule(s -> {
            for (int li = 0; li < (s.small() ? 5 : LENGTHS.length); li++) {
                int n = LENGTHS[li];
                for (float p : new float[] {0f, 0.1f, 0.5f, 0.9f}) {
                    long seed = r.nextLong(), stream = r.nextInt(5);
                    float[] x = gaussian(r, n, 1);
                    float[] refX, refMask;
                    try (Tensor tx = row(x); Tensor tm = Tensor.zeros(1, n)) {
                        cpu.dropoutForward(tx, tm, p, seed, stream);
                        refX = tx.toArray();
                        refMask = tm.toArray();
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dm = CudaBuffer.allocate(api(), 4L * n)) {
                        api().check(api().dropoutForward(dx.address(), dm.address(), n, p, seed, stream));
                        String what = "dropout_forward n=" + n + " p=" + p + " on " + s.name();
                        Compare.bits(what + ": mask", refMask, dm.toFloats());
                        Compare.bits(what + ": x", refX, dx.toFloats());
                    }
                }
            }
        });
        verified("dropout_forward");
    }

    @Test
    @Order(6)
    void dropoutBackwardMatchesCpuBitForBit() {
        Random r = new Random(106);
        forEachSchedule(s -> {
            for (int li = 0; li < (s.small() ? 5 : LENGTHS.length); li++) {
                int n = LENGTHS[li];
                float[] dy = gaussian(r, n, 1), mask = new float[n];
                for (int i = 0; i < n; i++) {
                    mask[i] = r.nextBoolean() ? 0f : 1.25f;
                }
                float[] ref;
                try (Tensor tdy = row(dy); Tensor tm = row(mask)) {
                    cpu.dropoutBackward(tdy, tm);
                    ref = tdy.toArray();
                }
                try (CudaBuffer ddy = dev(dy); CudaBuffer dm = dev(mask)) {
                    api().check(api().dropoutBackward(ddy.address(), dm.address(), n));
                    Compare.bits("dropout_backward n=" + n + " on " + s.name(), ref, ddy.toFloats());
                }
            }
        });
        verified("dropout_backward");
    }

    // ---- weight_penalty ----
    @Test
    @Order(7)
    void weightPenaltyMatchesCpu() {
        Random r = new Random(107);
        float[][] coefficients = {{0f, 0f}, {1e-3f, 0f}, {0f, 1e-2f}, {1e-3f, 1e-2f}};
        forEachSchedule(s -> {
            for (int li = 0; li < (s.small() ? 5 : LENGTHS.length); li++) {
                int n = LENGTHS[li];
                for (float[] c : coefficients) {
                    float[] w = gaussian(r, n, 1), g = gaussian(r, n, 1);
                    w[0] = 0f;  // sign(0) = 0
                    double refValue;
                    float[] refG;
                    try (Tensor tw = row(w); Tensor tg = row(g)) {
                        refValue = cpu.weightPenalty(tw, tg, c[0], c[1]);
                        refG = tg.toArray();
                    }
                    try (CudaBuffer dw = dev(w); CudaBuffer dg = dev(g); DoublePointer value = new DoublePointer(1)) {
                        api().check(api().weightPenalty(dw.address(), dg.address(), n, c[0], c[1], value));
                        String what = "weight_penalty n=" + n + " l1=" + c[0] + " l2=" + c[1] + " on " + s.name();
                        Tolerance.assertClose(what + ": g", refG, dg.toFloats(), 1e-7, 1e-6);
                        Tolerance.assertClose(what + ": value", new double[] {refValue}, new double[] {value.get()}, 1e-12, 1e-10);
                    }
                }
            }
        });
        verified("weight_penalty");
    }

    // ---- adam_update ----
    /** The cpu Adam step, then w *= mask when there is one (the cpu ABI on this branch has no mask yet). */
    private void cpuAdam(Tensor w, Tensor g, Tensor m, Tensor v, float[] mask, float lr, float b1, float b2, float eps,
            long step) {
        try (Tensor tmask = mask == null ? null : Tensor.row(mask)) {
            cpu.adamUpdate(w, g, m, v, tmask, lr, b1, b2, eps, step);
        }
    }

    @Test
    @Order(8)
    void adamUpdateMatchesCpu() {
        Random r = new Random(108);
        forEachSchedule(s -> {
            for (int li = 0; li < (s.small() ? 5 : LENGTHS.length); li++) {
                int n = LENGTHS[li];
                for (boolean masked : new boolean[] {false, true}) {
                    float[] w = gaussian(r, n, 1), m = gaussian(r, n, 0.1), v = gaussian(r, n, 0.1), mask = new float[n];
                    for (int i = 0; i < n; i++) {
                        v[i] = v[i] * v[i];
                        mask[i] = r.nextInt(4) == 0 ? 0f : 1f;
                    }
                    float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
                    try (Tensor tw = row(w); Tensor tm = row(m); Tensor tv = row(v); Tensor tg = Tensor.zeros(1, n);
                            CudaBuffer dw = dev(w); CudaBuffer dm = dev(m); CudaBuffer dv = dev(v); CudaBuffer dmask = dev(mask)) {
                        for (long step = 1; step <= 3; step++) {
                            float[] g = gaussian(r, n, 1);
                            tg.copyFrom(g);
                            cpuAdam(tw, tg, tm, tv, masked ? mask : null, lr, b1, b2, eps, step);
                            try (CudaBuffer dg = dev(g)) {
                                api().check(api().adamUpdate(dw.address(), dg.address(), dm.address(), dv.address(),
                                        masked ? dmask.address() : 0, n, lr, b1, b2, eps, step));
                            }
                        }
                        String what = "adam_update n=" + n + " masked=" + masked + " after 3 steps on " + s.name();
                        Tolerance.assertClose(what + ": w", tw.toArray(), dw.toFloats(), 1e-7, 2e-6);
                        // m and v cancel (b1 m + (1 - b1) g): the error is a rounding of the inputs' scale
                        Tolerance.assertClose(what + ": m", tm.toArray(), dm.toFloats(), 1e-7, 2e-6);
                        Tolerance.assertClose(what + ": v", tv.toArray(), dv.toFloats(), 1e-9, 2e-6);
                    }
                }
            }
        });
        verified("adam_update");
    }

    // ---- enmeshment ----
    private record Enmesh(double c, float[] grad, String error) {}

    private static Enmesh cpuEnmeshment(float[] w, int[] rl, int[] cl, int rows, int cols, int k, float scale,
            float[] grad) {
        return cpuEnmeshment(w, rl, cl, rows, cols, 1, k, scale, grad);
    }

    private static Enmesh cpuEnmeshment(float[] w, int[] rl, int[] cl, int rows, int cols, int slice, int k, float scale,
            float[] grad) {
        try (FloatPointer pw = new FloatPointer(Math.max(1, w.length)); IntPointer prl = new IntPointer(Math.max(1, rows));
                IntPointer pcl = new IntPointer(Math.max(1, cols)); FloatPointer pg = new FloatPointer(Math.max(1, w.length));
                DoublePointer c = new DoublePointer(1)) {
            pw.put(w);
            prl.put(rl);
            pcl.put(cl);
            if (grad != null) {
                pg.put(grad);
            }
            int status = ModularKernels.cleave_enmeshment(pw, prl, pcl, rows, cols, slice, k, scale, grad == null ? null : pg, c);
            if (status != 0) {
                return new Enmesh(0, null, CpuKernels.cleave_last_error().getString());
            }
            float[] out = null;
            if (grad != null) {
                out = new float[w.length];
                pg.get(out);
            }
            return new Enmesh(c.get(), out, null);
        }
    }

    private Enmesh cudaEnmeshment(float[] w, int[] rl, int[] cl, int rows, int cols, int k, float scale, float[] grad) {
        return cudaEnmeshment(w, rl, cl, rows, cols, 1, k, scale, grad);
    }

    private Enmesh cudaEnmeshment(float[] w, int[] rl, int[] cl, int rows, int cols, int slice, int k, float scale,
            float[] grad) {
        try (CudaBuffer dw = dev(w); CudaBuffer drl = dev(rl); CudaBuffer dcl = dev(cl);
                CudaBuffer dg = dev(grad == null ? new float[0] : grad); DoublePointer c = new DoublePointer(1)) {
            int status = api().enmeshment(dw.address(), drl.address(), dcl.address(), rows, cols, slice, k, scale,
                    grad == null ? 0 : dg.address(), c);
            if (status != 0) {
                return new Enmesh(0, null, api().lastError());
            }
            return new Enmesh(c.get(), grad == null ? null : dg.toFloats(), null);
        }
    }

    private static int[] labels(Random r, int n, int k, boolean contiguous) {
        int[] l = new int[n];
        for (int i = 0; i < n; i++) {
            l[i] = contiguous ? (int) ((long) i * k / n) : r.nextInt(k);
        }
        return l;
    }

    @Test
    @Order(9)
    void enmeshmentMatchesCpu() {
        Random r = new Random(109);
        int[][] shapes = {{1, 1, 1}, {3, 5, 2}, {17, 33, 4}, {64, 100, 4}, {10, 0, 3}, {0, 7, 2}, {129, 65, 7}, {40, 300, 5},
            {300, 20, 4}};
        forEachSchedule(s -> {
            for (int si = 0; si < (s.small() ? 4 : shapes.length); si++) {
                int rows = shapes[si][0], cols = shapes[si][1], k = shapes[si][2];
                for (int variant = 0; variant < 4; variant++) {
                    boolean contiguous = (variant & 1) != 0, withGrad = (variant & 2) != 0;
                    float scale = variant == 3 ? -20f : 1f;
                    float[] w = gaussian(r, rows * cols, 0.5), g = gaussian(r, rows * cols, 1);
                    int[] rl = labels(r, rows, k, contiguous), cl = labels(r, cols, k, contiguous);
                    Enmesh ref = cpuEnmeshment(w, rl, cl, rows, cols, k, scale, withGrad ? g : null);
                    Enmesh got = cudaEnmeshment(w, rl, cl, rows, cols, k, scale, withGrad ? g : null);
                    String what = "enmeshment " + rows + " x " + cols + " k=" + k + " contiguous=" + contiguous + " grad="
                            + withGrad + " scale=" + scale + " on " + s.name();
                    assertEquals(null, ref.error(), what + ": cpu");
                    assertEquals(null, got.error(), what);
                    Tolerance.assertClose(what + ": C", new double[] {ref.c()}, new double[] {got.c()}, 1e-9, 1e-6);
                    if (withGrad) {
                        Tolerance.assertClose(what + ": grad", ref.grad(), got.grad(), 1e-6, 1e-5);
                    }
                }
            }
            // All-zero w: C = 0 and grad unchanged.
            float[] g = gaussian(r, 12, 1);
            Enmesh got = cudaEnmeshment(new float[12], new int[] {0, 1, 2}, new int[] {0, 0, 1, 2}, 3, 4, 3, 1f, g);
            assertEquals(0.0, got.c(), "enmeshment of a zero matrix on " + s.name());
            Compare.bits("enmeshment of a zero matrix leaves grad unchanged on " + s.name(), g, got.grad());
        });
        verified("enmeshment");
    }

    @Test
    @Order(10)
    void enmeshmentErrorsMatchCpu() {
        Random r = new Random(110);
        int rows = 9, cols = 14, k = 3;
        forEachSchedule(s -> {
            List<Supplier<Object[]>> cases = List.of(
                    () -> new Object[] {"bad row label", gaussian(r, rows * cols, 1), withBad(labels(r, rows, k, true), 4, k),
                        labels(r, cols, k, true)},
                    () -> new Object[] {"negative column label", gaussian(r, rows * cols, 1), labels(r, rows, k, true),
                        withBad(labels(r, cols, k, false), 11, -1)},
                    () -> new Object[] {"bad row and column labels", gaussian(r, rows * cols, 1),
                        withBad(labels(r, rows, k, true), 7, k + 2), withBad(labels(r, cols, k, true), 0, k)},
                    () -> {
                        float[] w = gaussian(r, rows * cols, 1);
                        w[40] = Float.NaN;
                        return new Object[] {"NaN weight", w, labels(r, rows, k, true), labels(r, cols, k, true)};
                    },
                    () -> {
                        float[] w = gaussian(r, rows * cols, 1);
                        w[3] = 3e19f;
                        return new Object[] {"huge weight", w, labels(r, rows, k, true), labels(r, cols, k, true)};
                    });
            for (Supplier<Object[]> c : cases) {
                Object[] a = c.get();
                float[] w = (float[]) a[1];
                int[] rl = (int[]) a[2], cl = (int[]) a[3];
                float[] g = gaussian(r, rows * cols, 1);
                Enmesh ref = cpuEnmeshment(w, rl, cl, rows, cols, k, 1f, g);
                Enmesh got = cudaEnmeshment(w, rl, cl, rows, cols, k, 1f, g);
                String what = "enmeshment " + a[0] + " on " + s.name();
                assertNotEquals(null, ref.error(), what + ": the cpu should fail");
                assertNotEquals(null, got.error(), what + ": cuda should fail like the cpu (" + ref.error() + ")");
                assertEquals(Compare.withoutSource(ref.error()), Compare.withoutSource(got.error()), what);
            }
        });
    }

    @Test
    @Order(10)
    void enmeshmentOnKernelSlicesMatchesReference() {
        // conv kernels (out, in, kh * kw): C and grad of cuda and of the cpu kernel against the Java reference
        Random r = new Random(111);
        int[][] shapes = {{2, 3, 9, 2}, {16, 8, 9, 4}, {64, 64, 9, 4}, {33, 17, 25, 3}, {5, 40, 4, 4}};
        forEachSchedule(s -> {
            for (int si = 0; si < (s.small() ? 3 : shapes.length); si++) {
                int rows = shapes[si][0], cols = shapes[si][1], slice = shapes[si][2], k = shapes[si][3];
                for (boolean contiguous : new boolean[] {true, false}) {
                    int n = rows * cols * slice;
                    float[] w = gaussian(r, n, 0.5), g = gaussian(r, n, 1);
                    int[] rl = labels(r, rows, k, contiguous), cl = labels(r, cols, k, contiguous);
                    double[] ref = new double[n];
                    for (int e = 0; e < n; e++) {
                        ref[e] = g[e];
                    }
                    double[] wd = new double[n];
                    for (int e = 0; e < n; e++) {
                        wd[e] = w[e];
                    }
                    double refC = Enmeshment.reference(wd, rows, cols, slice, rl, cl, k, -20.0, ref);
                    String what = "enmeshment " + rows + " x " + cols + " x " + slice + " k=" + k + " contiguous=" + contiguous
                            + " on " + s.name();
                    for (Enmesh got : List.of(cpuEnmeshment(w, rl, cl, rows, cols, slice, k, -20f, g),
                            cudaEnmeshment(w, rl, cl, rows, cols, slice, k, -20f, g))) {
                        assertEquals(null, got.error(), what);
                        Tolerance.assertClose(what + ": C", new double[] {refC}, new double[] {got.c()}, 1e-9, 1e-6);
                        Tolerance.assertClose(what + ": grad", ref, got.grad(), 1e-6, 1e-5);
                    }
                }
            }
            Enmesh bad = cudaEnmeshment(new float[4], new int[] {0}, new int[] {0}, 1, 1, 0, 1, 1f, null);
            assertEquals(Compare.withoutSource(cpuEnmeshment(new float[4], new int[] {0}, new int[] {0}, 1, 1, 0, 1, 1f, null)
                    .error()), Compare.withoutSource(bad.error()), "slice 0 is refused like the cpu on " + s.name());
        });
        verified("enmeshment");
    }

    private static int[] withBad(int[] labels, int at, int value) {
        labels[at] = value;
        return labels;
    }

    // ---- one training step through every op, as a backend would chain them ----
    @Test
    @Order(11)
    void trainingStepMatchesCpu() {
        int batch = 13, in = 20, hidden = 33, classes = 7;
        Random r = new Random(111);
        float[] x = gaussian(r, batch * in, 1), w1 = gaussian(r, hidden * in, 0.3), b1 = gaussian(r, hidden, 0.1);
        float[] w2 = gaussian(r, classes * hidden, 0.3), b2 = gaussian(r, classes, 0.1);
        int[] labels = r.ints(batch, 0, classes).toArray();
        forEachSchedule(s -> {
            float[][] ref = cpuTrainingSteps(x, w1, b1, w2, b2, labels, batch, in, hidden, classes);
            float[][] got = cudaTrainingSteps(x, w1, b1, w2, b2, labels, batch, in, hidden, classes);
            String[] names = {"w1", "b1", "w2", "b2", "loss"};
            for (int i = 0; i < names.length; i++) {
                Tolerance.assertClose("two training steps, " + names[i] + " on " + s.name(), ref[i], got[i], 1e-5, 1e-4);
            }
        });
    }

    private float[][] cpuTrainingSteps(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int[] labels, int batch,
            int in, int hidden, int classes) {
        try (Tensor tx = tensor(x, batch, in); Tensor tw1 = tensor(w1, hidden, in); Tensor tb1 = row(b1);
                Tensor tw2 = tensor(w2, classes, hidden); Tensor tb2 = row(b2); IntTensor tl = ints(labels);
                Tensor h = Tensor.zeros(batch, hidden); Tensor mask = Tensor.zeros(batch, hidden);
                Tensor z = Tensor.zeros(batch, classes); Tensor dz = Tensor.zeros(batch, classes);
                Tensor dh = Tensor.zeros(batch, hidden); Tensor gw1 = Tensor.zeros(hidden, in); Tensor gb1 = Tensor.zeros(1, hidden);
                Tensor gw2 = Tensor.zeros(classes, hidden); Tensor gb2 = Tensor.zeros(1, classes);
                Tensor m1 = Tensor.zeros(hidden, in); Tensor v1 = Tensor.zeros(hidden, in); Tensor mb1 = Tensor.zeros(1, hidden);
                Tensor vb1 = Tensor.zeros(1, hidden); Tensor m2 = Tensor.zeros(classes, hidden);
                Tensor v2 = Tensor.zeros(classes, hidden); Tensor mb2 = Tensor.zeros(1, classes);
                Tensor vb2 = Tensor.zeros(1, classes)) {
            float[] losses = new float[2];
            for (int step = 1; step <= 2; step++) {
                cpu.linearForward(tx, tw1, tb1, h, true);
                cpu.dropoutForward(h, mask, 0.25f, 77, step);
                cpu.linearForward(h, tw2, tb2, z, false);
                losses[step - 1] = (float) cpu.softmaxXent(z, tl, dz, 1f / batch).lossSum();
                cpu.linearBackward(h, tw2, null, dz, dh, gw2, gb2, false);
                cpu.dropoutBackward(dh, mask);
                cpu.linearBackward(tx, tw1, h, dh, null, gw1, gb1, true);
                losses[step - 1] += (float) cpu.weightPenalty(tw1, gw1, 1e-4f, 1e-3f);
                cpu.adamUpdate(tw1, gw1, m1, v1, null, 1e-2f, 0.9f, 0.999f, 1e-8f, step);
                cpu.adamUpdate(tb1, gb1, mb1, vb1, null, 1e-2f, 0.9f, 0.999f, 1e-8f, step);
                cpu.adamUpdate(tw2, gw2, m2, v2, null, 1e-2f, 0.9f, 0.999f, 1e-8f, step);
                cpu.adamUpdate(tb2, gb2, mb2, vb2, null, 1e-2f, 0.9f, 0.999f, 1e-8f, step);
            }
            return new float[][] {tw1.toArray(), tb1.toArray(), tw2.toArray(), tb2.toArray(), losses};
        }
    }

    private float[][] cudaTrainingSteps(float[] x, float[] w1, float[] b1, float[] w2, float[] b2, int[] labels, int batch,
            int in, int hidden, int classes) {
        CudaApi a = api();
        try (CudaBuffer tx = dev(x); CudaBuffer tw1 = dev(w1); CudaBuffer tb1 = dev(b1); CudaBuffer tw2 = dev(w2);
                CudaBuffer tb2 = dev(b2); CudaBuffer tl = dev(labels);
                CudaBuffer h = CudaBuffer.zeros(a, (long) batch * hidden); CudaBuffer mask = CudaBuffer.zeros(a, (long) batch * hidden);
                CudaBuffer z = CudaBuffer.zeros(a, (long) batch * classes); CudaBuffer dz = CudaBuffer.zeros(a, (long) batch * classes);
                CudaBuffer dh = CudaBuffer.zeros(a, (long) batch * hidden); CudaBuffer gw1 = CudaBuffer.zeros(a, (long) hidden * in);
                CudaBuffer gb1 = CudaBuffer.zeros(a, hidden); CudaBuffer gw2 = CudaBuffer.zeros(a, (long) classes * hidden);
                CudaBuffer gb2 = CudaBuffer.zeros(a, classes); CudaBuffer m1 = CudaBuffer.zeros(a, (long) hidden * in);
                CudaBuffer v1 = CudaBuffer.zeros(a, (long) hidden * in); CudaBuffer mb1 = CudaBuffer.zeros(a, hidden);
                CudaBuffer vb1 = CudaBuffer.zeros(a, hidden); CudaBuffer m2 = CudaBuffer.zeros(a, (long) classes * hidden);
                CudaBuffer v2 = CudaBuffer.zeros(a, (long) classes * hidden); CudaBuffer mb2 = CudaBuffer.zeros(a, classes);
                CudaBuffer vb2 = CudaBuffer.zeros(a, classes); DoublePointer loss = new DoublePointer(1);
                IntPointer correct = new IntPointer(1); DoublePointer penalty = new DoublePointer(1)) {
            float[] losses = new float[2];
            for (int step = 1; step <= 2; step++) {
                a.check(a.linearForward(tx.address(), tw1.address(), tb1.address(), h.address(), batch, in, hidden, 1));
                a.check(a.dropoutForward(h.address(), mask.address(), (long) batch * hidden, 0.25f, 77, step));
                a.check(a.linearForward(h.address(), tw2.address(), tb2.address(), z.address(), batch, hidden, classes, 0));
                a.check(a.softmaxXent(z.address(), tl.address(), dz.address(), batch, classes, 1f / batch, loss, correct));
                a.check(a.linearBackward(h.address(), tw2.address(), 0, dz.address(), dh.address(), gw2.address(),
                        gb2.address(), batch, hidden, classes, 0));
                a.check(a.dropoutBackward(dh.address(), mask.address(), (long) batch * hidden));
                a.check(a.linearBackward(tx.address(), tw1.address(), h.address(), dh.address(), 0, gw1.address(),
                        gb1.address(), batch, in, hidden, 1));
                a.check(a.weightPenalty(tw1.address(), gw1.address(), (long) hidden * in, 1e-4f, 1e-3f, penalty));
                losses[step - 1] = (float) loss.get() + (float) penalty.get();
                CudaBuffer[][] params = {{tw1, gw1, m1, v1}, {tb1, gb1, mb1, vb1}, {tw2, gw2, m2, v2}, {tb2, gb2, mb2, vb2}};
                for (CudaBuffer[] p : params) {
                    a.check(a.adamUpdate(p[0].address(), p[1].address(), p[2].address(), p[3].address(), 0, p[0].bytes() / 4,
                            1e-2f, 0.9f, 0.999f, 1e-8f, step));
                }
            }
            a.check(a.synchronize());
            return new float[][] {tw1.toFloats(), tb1.toFloats(), tw2.toFloats(), tb2.toFloats(), losses};
        }
    }
}
