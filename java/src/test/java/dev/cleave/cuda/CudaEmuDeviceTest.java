package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nativ.CudaEmuKernels;
import java.util.Random;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What issue 17 asks of the library beyond one kernel's parity, on the emulator: results
 * bit-identical across GPU models (emulated SM counts), errors named by the op whose kernel
 * faulted (the synchronous checking mode) or as a sticky fault of an earlier kernel (the
 * emulator's GPU error model: deferred and sticky), the tiny test launch, and GEMMs with more
 * row tiles than gridDim.y takes.
 */
class CudaEmuDeviceTest {
    private final CudaApi api = CudaApi.emulator();

    @AfterEach
    void restore() {
        CudaEmuKernels.cleave_cuda_emu_set_sm_count(4);
        CudaEmuKernels.cleave_cuda_emu_set_error_model(0);
        CudaEmuKernels.cleave_cuda_emu_reset_device();
        api.check(api.setSyncCheck(false));
        CudaEmuKernels.cleave_cuda_emu_set_schedule(0, 0);
    }

    private static float[] randoms(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** Gaussians scaled by 2^-20..2^20: sums of their squares in double round differently in another order. */
    private static float[] wide(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(41) - 20));
        }
        return a;
    }

    /** Every host result and output of the reductions, as raw bits, on a device with `sms` SMs. */
    private long[] reductionBits(int sms) {
        assertEquals(0, CudaEmuKernels.cleave_cuda_emu_set_sm_count(sms));
        Random r = new Random(17);
        int n = 300_000, rows = 700, cols = 300, batch = 5000, classes = 10;
        float[] w = wide(r, n), logits = randoms(r, batch * classes), x = randoms(r, 96 * 40), lw = randoms(r, 24 * 40);
        int[] labels = new int[batch], rowL = new int[rows], colL = new int[cols];
        for (int i = 0; i < batch; i++) {
            labels[i] = r.nextInt(classes);
        }
        for (int i = 0; i < rows; i++) {
            rowL[i] = r.nextInt(4);
        }
        for (int j = 0; j < cols; j++) {
            colL[j] = r.nextInt(4);
        }
        try (CudaBuffer dw = CudaBuffer.of(api, w); CudaBuffer g = CudaBuffer.zeros(api, n);
                CudaBuffer dl = CudaBuffer.of(api, logits); CudaBuffer dlab = CudaBuffer.of(api, labels);
                CudaBuffer dgrad = CudaBuffer.zeros(api, (long) batch * classes); CudaBuffer dr = CudaBuffer.of(api, rowL);
                CudaBuffer dc = CudaBuffer.of(api, colL); CudaBuffer eg = CudaBuffer.zeros(api, (long) rows * cols);
                CudaBuffer dx = CudaBuffer.of(api, x); CudaBuffer dlw = CudaBuffer.of(api, lw);
                CudaBuffer y = CudaBuffer.zeros(api, 96 * 24); DoublePointer value = new DoublePointer(1);
                IntPointer correct = new IntPointer(1)) {
            api.check(api.weightPenalty(dw.address(), g.address(), n, 1e-3f, 1e-2f, value));
            double penalty = value.get();
            api.check(api.softmaxXent(dl.address(), dlab.address(), dgrad.address(), batch, classes, 1f / batch, value, correct));
            double loss = value.get();
            int hits = correct.get();
            api.check(api.enmeshment(dw.address(), dr.address(), dc.address(), rows, cols, 1, 4, 0.5f, eg.address(), value));
            double c = value.get();
            api.check(api.linearForward(dx.address(), dlw.address(), 0, y.address(), 96, 40, 24, 1));
            float[] gy = y.toFloats(), ge = eg.toFloats();
            long[] bits = new long[4 + gy.length + ge.length];
            bits[0] = Double.doubleToRawLongBits(penalty);
            bits[1] = Double.doubleToRawLongBits(loss);
            bits[2] = hits;
            bits[3] = Double.doubleToRawLongBits(c);
            for (int i = 0; i < gy.length; i++) {
                bits[4 + i] = Float.floatToRawIntBits(gy[i]);
            }
            for (int i = 0; i < ge.length; i++) {
                bits[4 + gy.length + i] = Float.floatToRawIntBits(ge[i]);
            }
            return bits;
        }
    }

    @Test
    void reductionsAreBitIdenticalAcrossSmCountsAndSchedules() {
        long[] a100 = reductionBits(108);
        long[] small = reductionBits(4);
        CudaEmuKernels.cleave_cuda_emu_set_schedule(CudaEmuKernels.SCHEDULE_SHUFFLED, 5);
        long[] h100 = reductionBits(132);
        assertArrayEquals(a100, small, "weight_penalty, softmax_xent, enmeshment and linear_forward on 108 vs 4 SMs");
        assertArrayEquals(a100, h100, "the same on 108 vs 132 SMs (and another thread schedule)");
    }

    /** A linear_forward whose y is 64 bytes short: the kernel writes past its end (into the emulator's guard band). */
    private int outOfBoundsForward(CudaBuffer x, CudaBuffer w, long shortY) {
        return api.linearForward(x.address(), w.address(), 0, shortY, 64, 16, 16, 0);
    }

    @Test
    void aFaultIsNamedByItsOwnOpInSyncModeAndAsStickyOtherwise() {
        Random r = new Random(3);
        try (CudaBuffer x = CudaBuffer.of(api, randoms(r, 64 * 16)); CudaBuffer w = CudaBuffer.of(api, randoms(r, 16 * 16));
                CudaBuffer logits = CudaBuffer.of(api, randoms(r, 8 * 4)); CudaBuffer labels = CudaBuffer.of(api, new int[8]);
                DoublePointer loss = new DoublePointer(1); IntPointer correct = new IntPointer(1)) {
            assertEquals(0, CudaEmuKernels.cleave_cuda_emu_set_error_model(1));

            // Asynchronous (the default): the launch succeeds, the next op that synchronizes hits the sticky fault.
            long y = api.mallocOrThrow(4L * (64 * 16 - 16));
            assertEquals(0, outOfBoundsForward(x, w, y), "a GPU reports a fault only at the next synchronization");
            int status = api.softmaxXent(logits.address(), labels.address(), 0, 8, 4, 1f, loss, correct);
            assertEquals(700, status, "cudaErrorIllegalAddress");
            String e = api.lastError();
            assertTrue(e.startsWith("softmax_xent: ") && e.contains("an earlier kernel faulted; the CUDA context is unusable")
                    && e.contains("cudaErrorIllegalAddress") && e.contains("CLEAVE_CUDA_SYNC=1"), e);
            assertNotEquals(0, api.synchronize(), "sticky: every later call fails");
            assertTrue(api.lastError().contains("an earlier kernel faulted"), api.lastError());
            assertEquals(0, api.free(y), "freeing after a sticky fault succeeds, not burying the first error");
            CudaEmuKernels.cleave_cuda_emu_reset_device();

            // Synchronous checking: the faulting op reports its own kernel.
            api.check(api.setSyncCheck(true));
            assertTrue(api.syncCheck());
            long y2 = api.mallocOrThrow(4L * (64 * 16 - 16));
            assertEquals(700, outOfBoundsForward(x, w, y2));
            String s = api.lastError();
            assertTrue(s.startsWith("linear_forward: kernel gemm_kernel<32x32,A:k,B:k> faulted: an illegal memory access")
                    && s.contains("the CUDA context is now unusable"), s);
            CudaEmuKernels.cleave_cuda_emu_reset_device();
            api.check(api.free(y2));
            // With nothing wrong, nothing stale is left: the next op succeeds.
            api.check(api.softmaxXent(logits.address(), labels.address(), 0, 8, 4, 1f, loss, correct));
        }
    }

    @Test
    void testLaunchRunsTheProbeKernel() {
        CudaEmuKernels.cleave_cuda_emu_reset_stats();
        assertEquals(0, api.testLaunch(), api.lastError());
        try (org.bytedeco.javacpp.BytePointer buf = new org.bytedeco.javacpp.BytePointer(4096)) {
            CudaEmuKernels.cleave_cuda_emu_launched(buf, 4096);
            assertTrue(buf.getString().contains("probe_kernel=1"), buf.getString());
        }
    }

    @Test
    void linearForwardTakesMoreRowTilesThanGridDimY() {
        // 64 * 65535 + 1 rows: 65536 tiles of 64 rows, one more than gridDim.y allows.
        int batch = 64 * 65535 + 1;
        float[] x = new float[batch];
        for (int i = 0; i < batch; i++) {
            x[i] = (i % 1000) - 500;
        }
        try (CudaBuffer dx = CudaBuffer.of(api, x); CudaBuffer w = CudaBuffer.of(api, new float[] {2f});
                CudaBuffer b = CudaBuffer.of(api, new float[] {0.5f}); CudaBuffer y = CudaBuffer.zeros(api, batch)) {
            api.check(api.linearForward(dx.address(), w.address(), b.address(), y.address(), batch, 1, 1, 0));
            float[] out = y.toFloats();
            for (int i : new int[] {0, 1, 64 * 65535 - 1, 64 * 65535, batch - 1}) {
                assertEquals(2f * x[i] + 0.5f, out[i], "row " + i);
            }
        }
    }
}
