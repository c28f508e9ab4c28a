package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cleave.Tolerance;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nn.IntTensor;
import dev.cleave.nn.Tensor;
import dev.cleave.nn.XentLog;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The fused ops of the training step (issue 17: linear_dropout_forward, linear_dropout_backward,
 * softmax_xent_record, adam_update_multi) against their cpu counterparts (within the tolerances of
 * the unfused ops' checks, masks bit for bit) and against the unfused CUDA ops they replace, bit
 * for bit: that is the promise that lets a training step switch to them without changing a
 * parameter. Part of the suite of {@link CudaParityChecks}.
 */
abstract class CudaFusedStepParityChecks extends CudaConvParityChecks {
    /** {batch, in, out}: one element, odd sizes, partial 32- and 64-tiles, more tiles than SMs. */
    private static final int[][] SHAPES = {{1, 1, 1}, {3, 17, 5}, {13, 64, 10}, {70, 37, 130}, {130, 45, 200}};
    private static final int SMALL_SHAPES = 3;

    private static int[][] shapes(Schedule s) {
        return Arrays.copyOf(SHAPES, s.small() ? SMALL_SHAPES : SHAPES.length);
    }

    private static float[] relu(float[] v) {
        float[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.max(out[i], 0f);
        }
        return out;
    }

    @Test
    @Order(40)
    void linearDropoutForwardIsLinearThenDropout() {
        Random r = new Random(140);
        forEachSchedule(s -> {
            for (int[] shape : shapes(s)) {
                int batch = shape[0], in = shape[1], out = shape[2];
                for (int variant = 0; variant < 4; variant++) {
                    boolean relu = (variant & 1) != 0, drop = (variant & 2) != 0;
                    float p = 0.3f;
                    long seed = 91 + variant, stream = 5;
                    float[] x = gaussian(r, batch * in, 1), w = gaussian(r, out * in, 1), b = gaussian(r, out, 1);
                    String what = Arrays.toString(shape) + " relu=" + relu + " dropout=" + drop + " on " + s.name();
                    float[] refY, refMask;
                    try (Tensor tx = tensor(x, batch, in); Tensor tw = tensor(w, out, in); Tensor tb = row(b);
                            Tensor ty = Tensor.zeros(batch, out); Tensor tm = Tensor.zeros(batch, out)) {
                        cpu.linearDropoutForward(tx, tw, tb, ty, relu, drop ? tm : null, p, seed, stream);
                        refY = ty.toArray();
                        refMask = tm.toArray();
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer db = dev(b);
                            CudaBuffer fy = CudaBuffer.zeros(api(), (long) batch * out);
                            CudaBuffer fm = CudaBuffer.zeros(api(), (long) batch * out);
                            CudaBuffer uy = CudaBuffer.zeros(api(), (long) batch * out);
                            CudaBuffer um = CudaBuffer.zeros(api(), (long) batch * out)) {
                        api().check(api().linearDropoutForward(dx.address(), dw.address(), db.address(), fy.address(),
                                drop ? fm.address() : 0, batch, in, out, relu ? 1 : 0, p, seed, stream));
                        api().check(api().linearForward(dx.address(), dw.address(), db.address(), uy.address(), batch, in,
                                out, relu ? 1 : 0));
                        if (drop) {
                            api().check(api().dropoutForward(uy.address(), um.address(), (long) batch * out, p, seed, stream));
                        }
                        Compare.bits("linear_dropout_forward y vs linear_forward + dropout_forward " + what, uy.toFloats(),
                                fy.toFloats());
                        Compare.bits("linear_dropout_forward mask vs dropout_forward " + what, um.toFloats(), fm.toFloats());
                        Compare.bits("linear_dropout_forward mask vs cpu " + what, refMask, fm.toFloats());
                        Tolerance.assertClose("linear_dropout_forward y vs cpu " + what, refY, fy.toFloats(), 4e-6 * in * 2,
                                1e-4);
                    }
                }
            }
        });
        verified("linear_dropout_forward");
    }

    @Test
    @Order(41)
    void linearDropoutBackwardIsLinearBackwardThenTheMasksBelow() {
        Random r = new Random(141);
        forEachSchedule(s -> {
            for (int[] shape : shapes(s)) {
                int batch = shape[0], in = shape[1], out = shape[2];
                for (int variant = 0; variant < 4; variant++) {
                    boolean reluX = (variant & 1) != 0, masked = (variant & 2) != 0;
                    float[] x = relu(gaussian(r, batch * in, 1)), w = gaussian(r, out * in, 1);
                    float[] dy = gaussian(r, batch * out, 1), mask = new float[batch * in];
                    for (int i = 0; i < mask.length; i++) {
                        mask[i] = r.nextInt(3) == 0 ? 0f : 1.5f;
                    }
                    String what = Arrays.toString(shape) + " reluX=" + reluX + " xMask=" + masked + " on " + s.name();
                    float[] refDx, refDw, refDb;
                    try (Tensor tx = tensor(x, batch, in); Tensor tw = tensor(w, out, in); Tensor tdy = tensor(dy, batch, out);
                            Tensor tm = tensor(mask, batch, in); Tensor tdx = Tensor.zeros(batch, in);
                            Tensor tdw = Tensor.zeros(out, in); Tensor tdb = Tensor.zeros(1, out)) {
                        cpu.linearDropoutBackward(tx, tw, masked ? tm : null, tdy, tdx, tdw, tdb, reluX);
                        refDx = tdx.toArray();
                        refDw = tdw.toArray();
                        refDb = tdb.toArray();
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer ddy = dev(dy); CudaBuffer dm = dev(mask);
                            CudaBuffer fdx = CudaBuffer.zeros(api(), (long) batch * in);
                            CudaBuffer fdw = CudaBuffer.zeros(api(), (long) out * in); CudaBuffer fdb = CudaBuffer.zeros(api(), out);
                            CudaBuffer udx = CudaBuffer.zeros(api(), (long) batch * in);
                            CudaBuffer udw = CudaBuffer.zeros(api(), (long) out * in); CudaBuffer udb = CudaBuffer.zeros(api(), out)) {
                        api().check(api().linearDropoutBackward(dx.address(), dw.address(), masked ? dm.address() : 0,
                                ddy.address(), fdx.address(), fdw.address(), fdb.address(), batch, in, out, reluX ? 1 : 0));
                        Compare.bits("linear_dropout_backward leaves dy " + what, dy, ddy.toFloats());
                        // the unfused ops: linear_backward (relu 0), dropout_backward, then the ReLU mask of x (a selection)
                        api().check(api().linearBackward(dx.address(), dw.address(), 0, ddy.address(), udx.address(),
                                udw.address(), udb.address(), batch, in, out, 0));
                        if (masked) {
                            api().check(api().dropoutBackward(udx.address(), dm.address(), (long) batch * in));
                        }
                        float[] unfusedDx = udx.toFloats();
                        for (int i = 0; reluX && i < unfusedDx.length; i++) {
                            unfusedDx[i] = x[i] > 0f ? unfusedDx[i] : 0f;
                        }
                        Compare.bits("linear_dropout_backward dx vs unfused " + what, unfusedDx, fdx.toFloats());
                        Compare.bits("linear_dropout_backward dw vs linear_backward " + what, udw.toFloats(), fdw.toFloats());
                        Compare.bits("linear_dropout_backward db vs linear_backward " + what, udb.toFloats(), fdb.toFloats());
                        Tolerance.assertClose("linear_dropout_backward dx vs cpu " + what, refDx, fdx.toFloats(), 4e-6 * out * 2, 1e-4);
                        Tolerance.assertClose("linear_dropout_backward dw vs cpu " + what, refDw, fdw.toFloats(), 4e-6 * batch * 2, 1e-4);
                        Tolerance.assertClose("linear_dropout_backward db vs cpu " + what, refDb, fdb.toFloats(), 4e-6 * batch * 2, 1e-4);
                    }
                    // without dx and db (the first layer)
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer ddy = dev(dy);
                            CudaBuffer fdw = CudaBuffer.zeros(api(), (long) out * in)) {
                        api().check(api().linearDropoutBackward(dx.address(), dw.address(), 0, ddy.address(), 0, fdw.address(),
                                0, batch, in, out, 0));
                        Tolerance.assertClose("linear_dropout_backward dw only vs cpu " + what, refDw, fdw.toFloats(),
                                4e-6 * batch * 2, 1e-4);
                    }
                }
            }
        });
        verified("linear_dropout_backward");
    }

    @Test
    @Order(42)
    void softmaxXentRecordIsSoftmaxXentWithoutTheRoundTrip() {
        Random r = new Random(142);
        int[][] shapes = {{1, 1}, {1, 10}, {9, 3}, {33, 10}, {130, 40}, {300, 7}};
        forEachSchedule(s -> {
            for (int si = 0; si < (s.small() ? 4 : shapes.length); si++) {
                int batch = shapes[si][0], classes = shapes[si][1];
                for (int bad = 0; bad < 4; bad++) { // none, a bad label, a non-finite logit, both (label row later)
                    float[] z = gaussian(r, batch * classes, 3);
                    int[] labels = r.ints(batch, 0, classes).toArray();
                    int labelRow = batch - 1, nanRow = batch / 2;
                    if (bad == 1 || bad == 3) {
                        labels[labelRow] = classes + 2;
                    }
                    if (bad == 2 || bad == 3) {
                        z[nanRow * classes + classes - 1] = Float.NaN;
                    }
                    String what = batch + " x " + classes + " bad=" + bad + " on " + s.name();
                    double[] ref;
                    float[] refD;
                    try (Tensor tz = tensor(z, batch, classes); IntTensor tl = ints(labels); Tensor td = Tensor.zeros(batch, classes);
                            XentLog log = cpu.xentLog(2)) {
                        cpu.softmaxXentRecord(tz, tl, td, 1f / batch, log, 1);
                        XentLog.Record rec = log.read(2)[1];
                        ref = new double[] {rec.lossSum(), rec.correct(), rec.badLabelRow(), rec.badLabel(), rec.nonfiniteRow()};
                        refD = td.toArray();
                    }
                    try (CudaBuffer dz = dev(z); CudaBuffer dl = dev(labels);
                            CudaBuffer dd = CudaBuffer.zeros(api(), (long) batch * classes);
                            CudaBuffer ud = CudaBuffer.zeros(api(), (long) batch * classes);
                            CudaBuffer rec = CudaBuffer.allocate(api(), 8L * 2 * XentLog.DOUBLES);
                            DoublePointer loss = new DoublePointer(1); IntPointer correct = new IntPointer(1)) {
                        for (int repeat = 0; repeat < 2; repeat++) { // the launch counter is back at 0 after each launch
                            api().check(api().softmaxXentRecord(dz.address(), dl.address(), dd.address(), batch, classes,
                                    1f / batch, rec.address() + 8L * XentLog.DOUBLES));
                        }
                        double[] got = Arrays.copyOfRange(rec.toDoubles(), XentLog.DOUBLES, 2 * XentLog.DOUBLES);
                        assertEquals(ref[1], got[1], "softmax_xent_record correct count vs cpu " + what);
                        assertEquals(ref[2], got[2], "softmax_xent_record first bad-label row vs cpu " + what);
                        assertEquals(ref[3], got[3], "softmax_xent_record bad label vs cpu " + what);
                        assertEquals(ref[4], got[4], "softmax_xent_record first non-finite row vs cpu " + what);
                        Tolerance.assertClose("softmax_xent_record loss vs cpu " + what, new double[] {ref[0]}, new double[] {got[0]},
                                1e-5 * batch, 1e-5);
                        Tolerance.assertClose("softmax_xent_record dlogits vs cpu " + what, refD, dd.toFloats(), 1e-6, 1e-5);
                        if (bad == 0) {
                            api().check(api().softmaxXent(dz.address(), dl.address(), ud.address(), batch, classes, 1f / batch,
                                    loss, correct));
                            assertEquals(Double.doubleToRawLongBits(loss.get()), Double.doubleToRawLongBits(got[0]),
                                    "softmax_xent_record loss vs softmax_xent, bit for bit, " + what);
                            assertEquals(correct.get(), (int) got[1], "softmax_xent_record correct vs softmax_xent " + what);
                            Compare.bits("softmax_xent_record dlogits vs softmax_xent " + what, ud.toFloats(), dd.toFloats());
                        }
                    }
                }
            }
        });
        verified("softmax_xent_record");
    }

    @Test
    @Order(43)
    void adamUpdateMultiIsWeightPenaltyThenAdamUpdate() {
        Random r = new Random(143);
        int[] small = {1, 7, 255, 256, 257, 1000, 4099};
        forEachSchedule(s -> {
            // more tensors than one launch holds (24) on the big schedules
            int count = s.small() ? 5 : 27;
            int[] n = new int[count];
            for (int t = 0; t < count; t++) {
                n[t] = !s.small() && t == 1 ? 300001 : small[t % small.length];
            }
            float[] l1 = new float[count], l2 = new float[count];
            List<float[]> w = new ArrayList<>(), g = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>(),
                    mask = new ArrayList<>();
            for (int t = 0; t < count; t++) {
                l1[t] = t % 3 == 0 ? 1e-4f : 0f;
                l2[t] = t % 2 == 0 ? 1e-3f : 0f;
                w.add(gaussian(r, n[t], 1));
                g.add(gaussian(r, n[t], 1));
                m.add(gaussian(r, n[t], 0.1));
                float[] vt = gaussian(r, n[t], 0.1), mt = new float[n[t]];
                for (int i = 0; i < n[t]; i++) {
                    vt[i] *= vt[i];
                    mt[i] = r.nextInt(4) == 0 ? 0f : 1f;
                }
                v.add(vt);
                mask.add(t % 4 == 1 ? mt : null);
            }
            float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            long step = 3;
            // cpu
            List<Tensor> cw = new ArrayList<>(), cg = new ArrayList<>(), cm = new ArrayList<>(), cv = new ArrayList<>(),
                    cmask = new ArrayList<>();
            for (int t = 0; t < count; t++) {
                cw.add(row(w.get(t)));
                cg.add(row(g.get(t)));
                cm.add(row(m.get(t)));
                cv.add(row(v.get(t)));
                cmask.add(mask.get(t) == null ? null : row(mask.get(t)));
            }
            cpu.adamUpdateMulti(cw, cg, cm, cv, cmask, l1, l2, lr, b1, b2, eps, step);
            // cuda: fused, and unfused (weight_penalty then adam_update per tensor)
            List<CudaBuffer> all = new ArrayList<>();
            CudaApi a = api();
            try (LongPointer pw = new LongPointer(count); LongPointer pg = new LongPointer(count);
                    LongPointer pm = new LongPointer(count); LongPointer pv = new LongPointer(count);
                    LongPointer pmask = new LongPointer(count); LongPointer pn = new LongPointer(count);
                    FloatPointer pl1 = new FloatPointer(l1); FloatPointer pl2 = new FloatPointer(l2);
                    DoublePointer value = new DoublePointer(1)) {
                CudaBuffer[][] fused = new CudaBuffer[count][], unfused = new CudaBuffer[count][];
                for (int t = 0; t < count; t++) {
                    fused[t] = new CudaBuffer[] {dev(w.get(t)), dev(g.get(t)), dev(m.get(t)), dev(v.get(t)),
                        mask.get(t) == null ? null : dev(mask.get(t))};
                    unfused[t] = new CudaBuffer[] {dev(w.get(t)), dev(g.get(t)), dev(m.get(t)), dev(v.get(t)),
                        mask.get(t) == null ? null : dev(mask.get(t))};
                    for (CudaBuffer[] set : new CudaBuffer[][] {fused[t], unfused[t]}) {
                        for (CudaBuffer b : set) {
                            if (b != null) {
                                all.add(b);
                            }
                        }
                    }
                    pw.put(t, fused[t][0].address());
                    pg.put(t, fused[t][1].address());
                    pm.put(t, fused[t][2].address());
                    pv.put(t, fused[t][3].address());
                    pmask.put(t, fused[t][4] == null ? 0 : fused[t][4].address());
                    pn.put(t, n[t]);
                }
                a.check(a.adamUpdateMulti(count, pw, pg, pm, pv, pmask, pn, pl1, pl2, lr, b1, b2, eps, step));
                for (int t = 0; t < count; t++) {
                    CudaBuffer[] u = unfused[t];
                    if (l1[t] != 0f || l2[t] != 0f) {
                        a.check(a.weightPenalty(u[0].address(), u[1].address(), n[t], l1[t], l2[t], value));
                    }
                    a.check(a.adamUpdate(u[0].address(), u[1].address(), u[2].address(), u[3].address(),
                            u[4] == null ? 0 : u[4].address(), n[t], lr, b1, b2, eps, step));
                }
                for (int t = 0; t < count; t++) {
                    String what = "tensor " + t + " (" + n[t] + " values, l1 " + l1[t] + ", l2 " + l2[t] + ", mask "
                            + (mask.get(t) != null) + ") on " + s.name();
                    String[] names = {"w", "g (unchanged)", "m", "v"};
                    for (int k = 0; k < 4; k++) {
                        float[] expected = k == 1 ? g.get(t) : unfused[t][k].toFloats();
                        Compare.bits("adam_update_multi " + names[k] + " vs weight_penalty + adam_update, " + what, expected,
                                fused[t][k].toFloats());
                    }
                    Tolerance.assertClose("adam_update_multi w vs cpu, " + what, cw.get(t).toArray(), fused[t][0].toFloats(),
                            1e-6, 1e-5);
                    Tolerance.assertClose("adam_update_multi m vs cpu, " + what, cm.get(t).toArray(), fused[t][2].toFloats(),
                            1e-6, 1e-5);
                }
            } finally {
                all.forEach(CudaBuffer::close);
                for (List<Tensor> list : List.of(cw, cg, cm, cv, cmask)) {
                    list.stream().filter(java.util.Objects::nonNull).forEach(Tensor::close);
                }
            }
        });
        verified("adam_update_multi");
    }
}
