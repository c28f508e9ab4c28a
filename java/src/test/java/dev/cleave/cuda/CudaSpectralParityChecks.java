package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.Tolerance;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The spectral engine's CUDA kernels against their cpu counterparts: spectral_op_apply on dense,
 * mirrored and CSR pieces, the eigensolver's block kernels (block_gram, block_sub_mul,
 * block_mul_square, block_residuals, block_chebyshev_step, block_copy) and kmeans_assign. Part of
 * the suite of {@link CudaParityChecks}.
 */
abstract class CudaSpectralParityChecks extends CudaTrainingParityChecks {
    // ---- the spectral engine: spectral_op_apply, block kernels, kmeans_assign ----
    private static double[] gaussianD(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return v;
    }

    private CudaBuffer dev(double[] v) {
        return CudaBuffer.of(api(), v);
    }

    /** Non-negative float weights with some exact zeros. */
    private static float[] weights(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextInt(5) == 0 ? 0f : (float) Math.abs(r.nextGaussian());
        }
        return v;
    }

    /** A random CSR block: rows rows, columns in [0, cols), some rows empty. */
    private static Object[] csr(Random r, int rows, int cols) {
        long[] off = new long[rows + 1];
        List<Integer> c = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            int per = i % 7 == 3 ? 0 : 1 + r.nextInt(Math.min(cols, 9));
            TreeSet<Integer> picked = new TreeSet<>();
            while (picked.size() < per) {
                picked.add(r.nextInt(cols));
            }
            c.addAll(picked);
            off[i + 1] = c.size();
        }
        int[] columns = c.stream().mapToInt(Integer::intValue).toArray();
        float[] w = weights(r, columns.length);
        for (int e = 0; e < w.length; e++) {
            w[e] += 0.5f; // CSR entries are edges: positive
        }
        return new Object[] {off, columns, w};
    }

    /** One operator described for both sides: pieces {dst, rows, src, cols, kind (0 dense, 1 dense mirrored, 2 csr)}. */
    private record OpCase(String name, int n, int half, double[] scale, List<long[]> shape, List<Object[]> data) {}

    private static OpCase opCase(Random r, String name, int n, int half, int[][] pieces) {
        double[] scale = new double[n];
        for (int i = 0; i < n; i++) {
            scale[i] = 0.2 + r.nextDouble();
        }
        List<long[]> shape = new ArrayList<>();
        List<Object[]> data = new ArrayList<>();
        for (int[] p : pieces) {
            shape.add(new long[] {p[0], p[1], p[2], p[3], p[4]});
            data.add(p[4] == 2 ? csr(r, p[1], p[3]) : new Object[] {weights(r, p[1] * p[3])});
        }
        return new OpCase(name, n, half, scale, shape, data);
    }

    private static double[] cpuApply(OpCase c, int which, double[] x, int cols) {
        dev.cleave.nativ.SpectralKernels.SpectralOp op = new dev.cleave.nativ.SpectralKernels.SpectralOp();
        CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_spectral_op_create(c.n(), c.half(), c.scale(), op));
        try {
            for (int q = 0; q < c.shape().size(); q++) {
                long[] s = c.shape().get(q);
                Object[] d = c.data().get(q);
                if (s[4] == 2) {
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_spectral_op_add_csr(op, s[0], s[1], s[2], s[3],
                            (long[]) d[0], (int[]) d[1], (float[]) d[2]));
                } else {
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_spectral_op_add_dense(op, s[0], s[1], s[2], s[3],
                            (float[]) d[0], (int) s[4], 1));
                }
            }
            double[] y = new double[x.length];
            CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_spectral_op_apply(op, which, x, y, cols, 1));
            return y;
        } finally {
            dev.cleave.nativ.SpectralKernels.cleave_spectral_op_free(op);
        }
    }

    /** The op on the device (the caller frees it with spectralOpFree). */
    private long deviceOp(OpCase c) {
        CudaApi a = api();
        long op;
        try (org.bytedeco.javacpp.LongPointer out = new org.bytedeco.javacpp.LongPointer(1);
                DoublePointer scale = new DoublePointer(c.scale())) {
            a.check(a.spectralOpCreate(c.n(), c.half(), scale, out));
            op = out.get();
        }
        try {
            for (int q = 0; q < c.shape().size(); q++) {
                long[] s = c.shape().get(q);
                Object[] d = c.data().get(q);
                if (s[4] == 2) {
                    try (org.bytedeco.javacpp.LongPointer off = new org.bytedeco.javacpp.LongPointer((long[]) d[0]);
                            IntPointer col = new IntPointer((int[]) d[1]); FloatPointer w = new FloatPointer((float[]) d[2])) {
                        a.check(a.spectralOpAddCsr(op, s[0], s[1], s[2], s[3], off, col, w));
                    }
                } else {
                    try (FloatPointer w = new FloatPointer((float[]) d[0])) {
                        a.check(a.spectralOpAddDense(op, s[0], s[1], s[2], s[3], w, (int) s[4]));
                    }
                }
            }
        } catch (RuntimeException e) {
            a.spectralOpFree(op);
            throw e;
        }
        return op;
    }

    @Test
    @Order(20)
    void spectralOpApplyMatchesCpu() {
        Random r = new Random(120);
        // A general graph (half = 0): a mirrored dense block with partial 64-row tiles and 32-deep slices, a plain
        // dense block, CSR blocks (rows without entries included); and a bipartite one (half = 61) whose S -> T
        // and T -> S pieces are dense mirrored and CSR, so N and M both run every piece kind.
        List<OpCase> cases = List.of(
                opCase(r, "general n=150", 150, 0, new int[][] {{0, 67, 70, 37, 1}, {0, 150, 0, 150, 2},
                    {100, 50, 3, 1, 0}, {140, 1, 0, 150, 2}}),
                opCase(r, "bipartite n=150 half=61", 150, 61, new int[][] {{61, 89, 0, 61, 1}, {0, 61, 61, 89, 2},
                    {61, 89, 0, 61, 2}, {70, 3, 5, 2, 0}}),
                opCase(r, "one node per side", 2, 1, new int[][] {{1, 1, 0, 1, 1}}));
        int[] widths = {1, 5, 16, 17, 70};
        forEachSchedule(s -> {
            for (OpCase c : cases) {
                long op = deviceOp(c);
                try {
                    for (int which = 0; which <= (c.half() > 0 ? 1 : 0); which++) {
                        int dim = which == 1 ? c.half() : c.n();
                        for (int wi = 0; wi < (s.small() ? 3 : widths.length); wi++) {
                            int cols = widths[wi];
                            double[] x = gaussianD(r, dim * cols);
                            double[] ref = cpuApply(c, which, x, cols);
                            try (CudaBuffer dx = dev(x); CudaBuffer dy = CudaBuffer.allocate(api(), 8L * dim * cols)) {
                                api().check(api().spectralOpApply(op, which, dx.address(), dy.address(), cols));
                                Tolerance.assertClose("spectral_op_apply " + c.name() + (which == 1 ? " M" : " N") + " cols="
                                        + cols + " on " + s.name(), ref, dy.toDoubles(), 1e-12, 1e-12);
                            }
                        }
                    }
                } finally {
                    api().check(api().spectralOpFree(op));
                }
            }
        });
        // Errors: as the cpu op, named.
        try (DoublePointer scale = new DoublePointer(new double[] {1.0, 0.0});
                org.bytedeco.javacpp.LongPointer out = new org.bytedeco.javacpp.LongPointer(1)) {
            assertNotEquals(0, api().spectralOpCreate(2, 0, scale, out));
            assertTrue(api().lastError().contains("scale[1]"), api().lastError());
        }
        OpCase c = cases.get(1);
        long op = deviceOp(c);
        try (FloatPointer w = new FloatPointer(new float[] {1f})) {
            assertNotEquals(0, api().spectralOpAddDense(op, 0, 1, 1, 1, w, 0));
            assertTrue(api().lastError().contains("side S to side T"), api().lastError());
        } finally {
            api().check(api().spectralOpFree(op));
        }
        verified("spectral_op_apply");
    }

    private static final int[] ROWS = {1, 7, 300, 9001};

    @Test
    @Order(21)
    void blockGramMatchesCpu() {
        Random r = new Random(121);
        int[][] ab = {{1, 1}, {3, 5}, {16, 16}, {13, 2}};
        forEachSchedule(s -> {
            for (int n : s.small() ? new int[] {1, 7, 300} : new int[] {1, 7, 300, 70001}) {
                for (int[] d : ab) {
                    int a = d[0], b = d[1], ldx = a + 2, ldy = b + 1;
                    double[] x = gaussianD(r, n * ldx), y = gaussianD(r, n * ldy), ref = new double[a * b];
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_block_gram(n, x, ldx, a, y, ldy, b, ref, 1));
                    try (CudaBuffer dx = dev(x); CudaBuffer dy = dev(y); CudaBuffer dg = CudaBuffer.allocate(api(), 8L * a * b)) {
                        api().check(api().blockGram(n, dx.address(), ldx, a, dy.address(), ldy, b, dg.address()));
                        Tolerance.assertClose("block_gram n=" + n + " a=" + a + " b=" + b + " on " + s.name(), ref, dg.toDoubles(),
                                1e-12 * Math.sqrt(n), 1e-12);
                    }
                }
            }
        });
        verified("block_gram");
    }

    @Test
    @Order(22)
    void blockSubMulMatchesCpu() {
        Random r = new Random(122);
        int[][] ab = {{1, 1}, {3, 5}, {16, 13}, {0, 4}};
        forEachSchedule(s -> {
            for (int n : s.small() ? new int[] {1, 7, 300} : ROWS) {
                for (int[] d : ab) {
                    int a = d[0], b = d[1], ldx = a + 3, ldy = b + 2;
                    double[] x = gaussianD(r, n * ldx), y = gaussianD(r, n * ldy), g = gaussianD(r, a * b), ref = y.clone();
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_block_sub_mul(n, x, ldx, a, g, ref, ldy, b, 1));
                    try (CudaBuffer dx = dev(x); CudaBuffer dy = dev(y); CudaBuffer dg = dev(g)) {
                        api().check(api().blockSubMul(n, dx.address(), ldx, a, dg.address(), dy.address(), ldy, b));
                        Tolerance.assertClose("block_sub_mul n=" + n + " a=" + a + " b=" + b + " on " + s.name(), ref, dy.toDoubles(),
                                1e-13, 1e-12);
                    }
                }
            }
        });
        verified("block_sub_mul");
    }

    @Test
    @Order(23)
    void blockMulSquareMatchesCpu() {
        Random r = new Random(123);
        forEachSchedule(s -> {
            for (int n : s.small() ? new int[] {1, 7, 300} : ROWS) {
                for (int c : new int[] {1, 5, 16, 33}) {
                    int ld = c + 3;
                    double[] x = gaussianD(r, n * ld), q = gaussianD(r, c * c), ref = x.clone();
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_block_mul_square(n, ref, ld, c, q, 1));
                    try (CudaBuffer dx = dev(x); CudaBuffer dq = dev(q)) {
                        api().check(api().blockMulSquare(n, dx.address(), ld, c, dq.address()));
                        Tolerance.assertClose("block_mul_square n=" + n + " c=" + c + " on " + s.name(), ref, dx.toDoubles(), 1e-13,
                                1e-12);
                    }
                }
            }
        });
        try (CudaBuffer dx = CudaBuffer.allocate(api(), 8L * 257); CudaBuffer dq = CudaBuffer.allocate(api(), 8L * 257 * 257)) {
            assertNotEquals(0, api().blockMulSquare(1, dx.address(), 257, 257, dq.address()));
            assertTrue(api().lastError().contains("c <= 256"), api().lastError());
        }
        verified("block_mul_square");
    }

    @Test
    @Order(24)
    void blockResidualsMatchesCpu() {
        Random r = new Random(124);
        forEachSchedule(s -> {
            for (int n : s.small() ? new int[] {1, 7, 300} : new int[] {1, 7, 300, 70001}) {
                for (int k : new int[] {1, 5, 16}) {
                    int ld = k + 3;
                    double[] x = gaussianD(r, n * ld), ax = gaussianD(r, n * ld), theta = gaussianD(r, k), ref = new double[k];
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_block_residuals(n, x, ax, ld, k, theta, ref, 1));
                    try (CudaBuffer dx = dev(x); CudaBuffer dax = dev(ax); DoublePointer th = new DoublePointer(theta);
                            DoublePointer out = new DoublePointer(k)) {
                        api().check(api().blockResiduals(n, dx.address(), dax.address(), ld, k, th, out));
                        double[] got = new double[k];
                        out.get(got);
                        Tolerance.assertClose("block_residuals n=" + n + " k=" + k + " on " + s.name(), ref, got, 1e-13, 1e-12);
                    }
                }
            }
        });
        verified("block_residuals");
    }

    @Test
    @Order(25)
    void blockChebyshevStepMatchesCpu() {
        Random r = new Random(125);
        forEachSchedule(s -> {
            for (int count : s.small() ? new int[] {1, 7, 257} : new int[] {1, 7, 257, 300001}) {
                for (boolean three : new boolean[] {false, true}) {
                    double f = 1.7, c = -0.3, g = three ? 0.45 : 0.0;
                    double[] y0 = gaussianD(r, count), y1 = gaussianD(r, count), y2 = gaussianD(r, count), ref = y2.clone();
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_block_chebyshev_step(count, f, c, g,
                            three ? y0 : null, y1, ref, 1));
                    try (CudaBuffer d0 = dev(y0); CudaBuffer d1 = dev(y1); CudaBuffer d2 = dev(y2)) {
                        api().check(api().blockChebyshevStep(count, f, c, g, three ? d0.address() : 0, d1.address(),
                                d2.address()));
                        Tolerance.assertClose("block_chebyshev_step count=" + count + " y0=" + three + " on " + s.name(), ref,
                                d2.toDoubles(), 1e-15, 1e-15);
                    }
                }
            }
        });
        verified("block_chebyshev_step");
    }

    @Test
    @Order(26)
    void blockCopyMatchesCpu() {
        Random r = new Random(126);
        forEachSchedule(s -> {
            for (int n : s.small() ? new int[] {1, 7, 300} : ROWS) {
                for (int[] d : new int[][] {{1, 0, 0, 1, 1}, {5, 2, 3, 9, 8}, {16, 0, 4, 16, 20}}) {
                    int c = d[0], s0 = d[1], d0 = d[2], lds = s0 + c + d[3] - c, ldd = d0 + c + d[4] - c;
                    lds = Math.max(lds, s0 + c);
                    ldd = Math.max(ldd, d0 + c);
                    double[] src = gaussianD(r, n * lds), dst = gaussianD(r, n * ldd), ref = dst.clone();
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_block_copy(n, src, lds, s0, ref, ldd, d0, c));
                    try (CudaBuffer ds = dev(src); CudaBuffer dd = dev(dst)) {
                        api().check(api().blockCopy(n, ds.address(), lds, s0, dd.address(), ldd, d0, c));
                        Tolerance.assertClose("block_copy n=" + n + " c=" + c + " on " + s.name(), ref, dd.toDoubles(), 0, 0);
                    }
                }
            }
        });
        verified("block_copy");
    }

    @Test
    @Order(27)
    void kmeansAssignMatchesCpu() {
        Random r = new Random(127);
        // k * d beyond one shared-memory chunk of centers (4096 doubles) in the last shape.
        int[][] dk = {{1, 1}, {3, 5}, {12, 40}, {12, 400}};
        forEachSchedule(s -> {
            for (int n : s.small() ? new int[] {1, 7, 300} : ROWS) {
                for (int[] p : dk) {
                    int d = p[0], k = p[1];
                    double[] x = gaussianD(r, n * d), centers = gaussianD(r, k * d);
                    if (k >= 5) { // exact ties: center 3 duplicates center 1, and a point sits on it
                        System.arraycopy(centers, d, centers, 3 * d, d);
                        System.arraycopy(centers, d, x, 0, d);
                    }
                    int[] refLabels = new int[n];
                    double[] refDist = new double[n];
                    CpuKernels.check(dev.cleave.nativ.SpectralKernels.cleave_kmeans_assign(x, n, d, centers, k, refLabels,
                            refDist));
                    try (CudaBuffer dx = dev(x); CudaBuffer dc = dev(centers); CudaBuffer dl = CudaBuffer.allocate(api(), 4L * n);
                            CudaBuffer dd = CudaBuffer.allocate(api(), 8L * n)) {
                        api().check(api().kmeansAssign(dx.address(), n, d, dc.address(), k, dl.address(), dd.address()));
                        String what = "kmeans_assign n=" + n + " d=" + d + " k=" + k + " on " + s.name();
                        assertEquals(Arrays.toString(refLabels), Arrays.toString(dl.toInts()), what + ": labels");
                        Tolerance.assertClose(what + ": dist", refDist, dd.toDoubles(), 1e-13, 1e-12);
                    }
                }
            }
        });
        verified("kmeans_assign");
    }
}
