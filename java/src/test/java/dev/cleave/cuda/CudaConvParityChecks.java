package dev.cleave.cuda;

import dev.cleave.Tolerance;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nn.BatchNorm2dShape;
import dev.cleave.nn.Conv2dShape;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.IntTensor;
import dev.cleave.nn.Pool2dShape;
import dev.cleave.nn.Tensor;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The convolutional kernels of cuda/include/cleave_cuda.h (conv2d_forward, conv2d_backward,
 * maxpool2d_forward, maxpool2d_backward, batchnorm2d_forward, batchnorm2d_backward) against their
 * cpu counterparts, on small awkward shapes (the emulator is slow): batch 1, 1x1 images, odd
 * channel counts, kernels 1, 3 and 5, stride 2, padding 0, 1 and 2, both GEMM tile shapes and a
 * split-K dw. Part of the suite of {@link CudaParityChecks} (its coverage test counts these), run
 * by {@link CudaEmuParityTest} and {@link CudaGpuParityTest}.
 */
abstract class CudaConvParityChecks extends CudaSpectralParityChecks {
    /** batch, in, height, width, out, kernel, stride, padding; the first SMALL also run on OS threads. */
    private static final int[][] CONV = {{1, 1, 1, 1, 1, 1, 1, 0}, {2, 3, 5, 7, 5, 3, 1, 1}, {1, 2, 9, 11, 3, 5, 2, 2},
        {3, 5, 8, 13, 7, 3, 2, 1}, {2, 2, 12, 12, 3, 3, 1, 1}, {2, 7, 6, 9, 3, 1, 2, 0}, {1, 1, 1, 1, 2, 3, 1, 1},
        {4, 4, 10, 10, 66, 3, 1, 1}};
    private static final int SMALL = 2;

    private CpuBackend host;

    @BeforeAll
    void startConvCpu() {
        host = new CpuBackend(1);
    }

    @AfterAll
    void stopConvCpu() {
        if (host != null) {
            host.close();
        }
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static Conv2dShape conv(int[] c) {
        return new Conv2dShape(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
    }

    private static double tol(int terms) {
        return 4e-6 * Math.sqrt(terms) + 1e-6;
    }

    @Test
    @Order(30)
    void conv2dForwardMatchesCpu() {
        Random r = new Random(301);
        forEachConvSchedule(s -> {
            for (int ci = 0; ci < (s.small() ? SMALL : CONV.length); ci++) {
                Conv2dShape c = conv(CONV[ci]);
                for (int variant = 0; variant < 4; variant++) {
                    boolean relu = (variant & 1) != 0, bias = (variant & 2) != 0;
                    float[] x = gaussian(r, c.batch() * c.inSize()), w = gaussian(r, c.outChannels() * c.patchSize());
                    float[] b = gaussian(r, c.outChannels());
                    float[] ref;
                    try (Tensor tx = tensor(x, c.batch(), c.inSize()); Tensor tw = tensor(w, c.outChannels(), c.patchSize());
                            Tensor tb = tensor(b, 1, c.outChannels()); Tensor ty = Tensor.zeros(c.batch(), c.outSize())) {
                        host.conv2dForward(c, tx, tw, bias ? tb : null, ty, relu);
                        ref = ty.toArray();
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer db = dev(b);
                            CudaBuffer dy = CudaBuffer.allocate(api(), 4L * c.batch() * c.outSize())) {
                        api().check(api().conv2dForward(dx.address(), dw.address(), bias ? db.address() : 0, dy.address(),
                                c.batch(), c.inChannels(), c.height(), c.width(), c.outChannels(), c.kernel(), c.stride(),
                                c.padding(), relu ? 1 : 0));
                        Tolerance.assertClose("conv2d_forward " + c + " relu=" + relu + " bias=" + bias + " on " + s.name(), ref,
                                dy.toFloats(), tol(c.patchSize()), 1e-4);
                    }
                }
            }
        });
        verified("conv2d_forward");
    }

    @Test
    @Order(31)
    void conv2dBackwardMatchesCpu() {
        Random r = new Random(302);
        forEachConvSchedule(s -> {
            for (int ci = 0; ci < (s.small() ? SMALL : CONV.length); ci++) {
                Conv2dShape c = conv(CONV[ci]);
                for (int variant = 0; variant < 4; variant++) {
                    boolean relu = (variant & 1) != 0, full = (variant & 2) != 0;
                    int nx = c.batch() * c.inSize(), ny = c.batch() * c.outSize(), nw = c.outChannels() * c.patchSize();
                    float[] x = gaussian(r, nx), w = gaussian(r, nw), g = gaussian(r, ny), y = gaussian(r, ny);
                    for (int i = 0; i < y.length; i++) {
                        y[i] = Math.max(y[i], 0f);
                    }
                    float[] rdy, rdx = null, rdw, rdb = null;
                    try (Tensor tx = tensor(x, c.batch(), c.inSize()); Tensor tw = tensor(w, c.outChannels(), c.patchSize());
                            Tensor ty = tensor(y, c.batch(), c.outSize()); Tensor tdy = tensor(g, c.batch(), c.outSize());
                            Tensor tdx = Tensor.zeros(c.batch(), c.inSize()); Tensor tdw = Tensor.zeros(c.outChannels(), c.patchSize());
                            Tensor tdb = Tensor.zeros(1, c.outChannels())) {
                        host.conv2dBackward(c, tx, tw, ty, tdy, full ? tdx : null, tdw, full ? tdb : null, relu);
                        rdy = tdy.toArray();
                        rdw = tdw.toArray();
                        if (full) {
                            rdx = tdx.toArray();
                            rdb = tdb.toArray();
                        }
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dw = dev(w); CudaBuffer dyv = dev(y); CudaBuffer ddy = dev(g);
                            CudaBuffer ddx = dev(new float[nx]); CudaBuffer ddw = dev(new float[nw]);
                            CudaBuffer ddb = dev(new float[c.outChannels()])) {
                        api().check(api().conv2dBackward(dx.address(), dw.address(), dyv.address(), ddy.address(),
                                full ? ddx.address() : 0, ddw.address(), full ? ddb.address() : 0, c.batch(), c.inChannels(),
                                c.height(), c.width(), c.outChannels(), c.kernel(), c.stride(), c.padding(), relu ? 1 : 0));
                        String what = c + " relu=" + relu + " dx,db=" + full + " on " + s.name();
                        int perOut = c.batch() * c.outHeight() * c.outWidth();
                        Compare.bits("conv2d_backward dy " + what, rdy, ddy.toFloats());
                        Tolerance.assertClose("conv2d_backward dw " + what, rdw, ddw.toFloats(), tol(perOut), 1e-4);
                        if (full) {
                            Tolerance.assertClose("conv2d_backward dx " + what, rdx, ddx.toFloats(),
                                    tol(c.outChannels() * c.kernel() * c.kernel()), 1e-4);
                            Tolerance.assertClose("conv2d_backward db " + what, rdb, ddb.toFloats(), tol(perOut), 1e-4);
                        }
                    }
                }
            }
        });
        verified("conv2d_backward");
    }

    @Test
    @Order(32)
    void maxpool2dMatchesCpu() {
        Random r = new Random(303);
        Pool2dShape[] shapes = {new Pool2dShape(1, 1, 1, 1, 1, 1), new Pool2dShape(2, 3, 4, 4, 2, 2),
            new Pool2dShape(3, 5, 7, 9, 2, 2), new Pool2dShape(1, 3, 7, 7, 3, 2), new Pool2dShape(2, 2, 5, 6, 2, 1)};
        forEachConvSchedule(s -> {
            for (int pi = 0; pi < (s.small() ? SMALL : shapes.length); pi++) {
                Pool2dShape p = shapes[pi];
                int nx = p.batch() * p.inSize(), ny = p.batch() * p.outSize();
                float[] x = gaussian(r, nx), g = gaussian(r, ny);
                for (int i = 0; i + 1 < nx; i += 11) {
                    x[i + 1] = x[i];  // ties: the first must win on both
                }
                if (nx > 5) {
                    x[5] = Float.NaN;
                }
                float[] ry, rdx;
                int[] ra;
                try (Tensor tx = tensor(x, p.batch(), p.inSize()); Tensor ty = Tensor.zeros(p.batch(), p.outSize());
                        IntTensor ta = new IntTensor(ny); Tensor tg = tensor(g, p.batch(), p.outSize());
                        Tensor tdx = Tensor.zeros(p.batch(), p.inSize())) {
                    host.maxpool2dForward(p, tx, ty, ta);
                    host.maxpool2dBackward(p, tg, ta, tdx);
                    ry = ty.toArray();
                    ra = ta.toArray(ny);
                    rdx = tdx.toArray();
                }
                try (CudaBuffer dx = dev(x); CudaBuffer dy = dev(new float[ny]); CudaBuffer da = CudaBuffer.of(api(), new int[ny]);
                        CudaBuffer dg = dev(g); CudaBuffer ddx = dev(new float[nx])) {
                    api().check(api().maxpool2dForward(dx.address(), dy.address(), da.address(), p.batch(), p.channels(),
                            p.height(), p.width(), p.kernel(), p.stride()));
                    api().check(api().maxpool2dBackward(dg.address(), da.address(), ddx.address(), p.batch(), p.channels(),
                            p.height(), p.width(), p.kernel(), p.stride()));
                    Compare.bits("maxpool2d_forward y " + p + " on " + s.name(), ry, dy.toFloats());
                    assertArrayEquals(ra, da.toInts(), "maxpool2d_forward argmax " + p + " on " + s.name());
                    Tolerance.assertClose("maxpool2d_backward dx " + p + " on " + s.name(), rdx, ddx.toFloats(), 1e-6, 1e-6);
                }
            }
        });
        verified("maxpool2d_forward");
        verified("maxpool2d_backward");
    }

    @Test
    @Order(33)
    void batchnorm2dMatchesCpu() {
        Random r = new Random(304);
        BatchNorm2dShape[] shapes = {new BatchNorm2dShape(2, 1, 1, 1), new BatchNorm2dShape(1, 3, 1, 2),
            new BatchNorm2dShape(3, 5, 7, 9), new BatchNorm2dShape(2, 33, 5, 3)};
        forEachConvSchedule(s -> {
            for (int bi = 0; bi < (s.small() ? SMALL : shapes.length); bi++) {
                BatchNorm2dShape b = shapes[bi];
                for (boolean training : new boolean[] {true, false}) {
                    int n = b.batch() * b.size(), c = b.channels();
                    float[] x = gaussian(r, n), gamma = gaussian(r, c), beta = gaussian(r, c), rm = gaussian(r, c);
                    float[] rv = gaussian(r, c), g = gaussian(r, n);
                    for (int i = 0; i < n; i++) {
                        x[i] = 2.5f * x[i] + 1.25f;
                    }
                    for (int i = 0; i < c; i++) {
                        rv[i] = 0.5f + Math.abs(rv[i]);
                    }
                    float[][] ref = new float[8][];
                    try (Tensor tx = tensor(x, b.batch(), b.size()); Tensor tg = tensor(gamma, 1, c); Tensor tb = tensor(beta, 1, c);
                            Tensor trm = tensor(rm, 1, c); Tensor trv = tensor(rv, 1, c); Tensor ty = Tensor.zeros(b.batch(), b.size());
                            Tensor tsm = Tensor.zeros(1, c); Tensor tsi = Tensor.zeros(1, c); Tensor tdy = tensor(g, b.batch(), b.size());
                            Tensor tdx = Tensor.zeros(b.batch(), b.size()); Tensor tdg = Tensor.zeros(1, c);
                            Tensor tdb = Tensor.zeros(1, c)) {
                        host.batchnorm2dForward(b, tx, tg, tb, trm, trv, ty, tsm, tsi, training, 0.1f, 1e-5f);
                        host.batchnorm2dBackward(b, tx, tg, tsm, tsi, tdy, tdx, tdg, tdb, training);
                        Tensor[] outs = {trm, trv, ty, tsm, tsi, tdx, tdg, tdb};
                        for (int i = 0; i < 8; i++) {
                            ref[i] = outs[i].toArray();
                        }
                    }
                    try (CudaBuffer dx = dev(x); CudaBuffer dg = dev(gamma); CudaBuffer db = dev(beta); CudaBuffer drm = dev(rm);
                            CudaBuffer drv = dev(rv); CudaBuffer dy = dev(new float[n]); CudaBuffer dsm = dev(new float[c]);
                            CudaBuffer dsi = dev(new float[c]); CudaBuffer ddy = dev(g); CudaBuffer ddx = dev(new float[n]);
                            CudaBuffer ddg = dev(new float[c]); CudaBuffer ddb = dev(new float[c])) {
                        api().check(api().batchnorm2dForward(dx.address(), dg.address(), db.address(), drm.address(),
                                drv.address(), dy.address(), dsm.address(), dsi.address(), b.batch(), c, b.height(), b.width(),
                                training ? 1 : 0, 0.1f, 1e-5f));
                        api().check(api().batchnorm2dBackward(dx.address(), dg.address(), dsm.address(), dsi.address(),
                                ddy.address(), ddx.address(), ddg.address(), ddb.address(), b.batch(), c, b.height(), b.width(),
                                training ? 1 : 0));
                        CudaBuffer[] outs = {drm, drv, dy, dsm, dsi, ddx, ddg, ddb};
                        String[] names = {"running_mean", "running_var", "y", "save_mean", "save_invstd", "dx", "dgamma", "dbeta"};
                        for (int i = 0; i < 8; i++) {
                            Tolerance.assertClose("batchnorm2d " + names[i] + " " + b + " training=" + training + " on " + s.name(), ref[i],
                                    outs[i].toFloats(), tol(b.perChannel()), 1e-4);
                        }
                    }
                }
            }
        });
        verified("batchnorm2d_forward");
        verified("batchnorm2d_backward");
    }

    @Test
    @Order(34)
    void convolutionalErrorsAreReportedLikeCpu() {
        try (CudaBuffer x = dev(new float[4]); CudaBuffer y = dev(new float[4]); CudaBuffer w = dev(new float[25])) {
            // A 5x5 kernel on a 2x2 image without padding: both libraries refuse it, naming the op.
            int status = api().conv2dForward(x.address(), w.address(), 0, y.address(), 1, 1, 2, 2, 1, 5, 1, 0, 0);
            assertNotEquals(0, status);
            assertTrue(api().lastError().startsWith("conv2d_forward: a 5x5 kernel does not fit"), api().lastError());
            status = api().maxpool2dForward(x.address(), y.address(), 0, 1, 1, 2, 2, 2, 2);
            assertNotEquals(0, status);
            assertTrue(api().lastError().startsWith("maxpool2d_forward: x, y and argmax must not be null"), api().lastError());
            status = api().batchnorm2dForward(x.address(), w.address(), w.address(), w.address(), w.address(), y.address(), 0, 0,
                    1, 1, 1, 1, 1, 0.1f, 1e-5f);
            assertNotEquals(0, status);
            assertTrue(api().lastError().contains("more than one value per channel"), api().lastError());
        }
    }

    private void forEachConvSchedule(java.util.function.Consumer<Schedule> check) {
        for (Schedule s : schedules()) {
            use(s);
            check.accept(s);
        }
    }
}
