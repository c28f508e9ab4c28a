package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nativ.CudaEmuKernels;
import dev.cleave.nativ.NativeArgumentException;
import dev.cleave.nativ.NativeException;
import dev.cleave.nativ.NativeStatus;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;

/**
 * The infrastructure half of the C ABI (device memory, errors) on the emulator, and what the real
 * library does on a machine without a usable GPU: fail with a reason, never crash.
 */
class CudaAbiTest {
    private final CudaApi emu = CudaApi.emulator();

    @Test
    void deviceMemoryRoundTrips() {
        float[] values = {1f, -2.5f, 3e-7f, Float.MAX_VALUE, 0f, -0f, 7f};
        try (CudaBuffer a = CudaBuffer.of(emu, values); CudaBuffer b = CudaBuffer.allocate(emu, a.bytes());
                CudaBuffer z = CudaBuffer.zeros(emu, 5); CudaBuffer empty = CudaBuffer.allocate(emu, 0)) {
            assertArrayEquals(values, a.toFloats());
            emu.check(emu.memcpyDtoD(b.address(), a.address(), a.bytes()));
            assertArrayEquals(values, b.toFloats());
            assertArrayEquals(new float[5], z.toFloats());
            emu.check(emu.memset(b.address(), 0, 8));
            assertArrayEquals(new float[] {0f, 0f, 3e-7f, Float.MAX_VALUE, 0f, -0f, 7f}, b.toFloats());
            assertEquals(0, empty.address());
            emu.check(emu.synchronize());
            try (LongPointer free = new LongPointer(1); LongPointer total = new LongPointer(1)) {
                emu.check(emu.memInfo(free, total));
                assertTrue(free.get() > 0 && free.get() <= total.get());
            }
        }
        try (CudaBuffer ints = CudaBuffer.of(emu, new int[] {3, -1, 7})) {
            assertArrayEquals(new int[] {3, -1, 7}, ints.toInts());
        }
    }

    @Test
    void badCallsFailWithAReasonInsteadOfCrashing() {
        assertNotEquals(0, emu.malloc(new LongPointer(1), -1));
        assertTrue(emu.lastError().startsWith("malloc: bytes must be >= 0"), emu.lastError());
        NativeException huge = assertThrows(NativeException.class, () -> emu.mallocOrThrow(1L << 40));
        assertTrue(huge.getMessage().contains("could not allocate 1099511627776 bytes"), huge.getMessage());
        assertNotEquals(0, emu.free(12345));
        assertTrue(emu.lastError().contains("free:"), emu.lastError());
        assertNotEquals(0, emu.setDevice(3));
        assertTrue(emu.lastError().startsWith("set_device:"), emu.lastError());
        emu.check(emu.setDevice(0));
        try (FloatPointer host = new FloatPointer(4); CudaBuffer dev = CudaBuffer.zeros(emu, 4)) {
            // host memory where device memory belongs: the emulator notices (a GPU would fault)
            assertNotEquals(0, emu.memcpyHtoD(host.address(), host, 16));
            assertTrue(emu.lastError().startsWith("memcpy_htod:"), emu.lastError());
            assertNotEquals(0, emu.memcpyDtoH(host, dev.address(), 32));  // past the end of the allocation
            assertNotEquals(0, emu.linearForward(host.address(), dev.address(), 0, dev.address(), 1, 2, 2, 0));
            assertTrue(emu.lastError().contains("does not point into emulated device memory"), emu.lastError());
            // argument checks name the op and the source line
            assertNotEquals(0, emu.linearForward(dev.address(), dev.address(), 0, dev.address(), 0, 2, 2, 0));
            assertTrue(emu.lastError().matches("linear_forward: batch, in and out must be positive, got 0, 2, 2 "
                    + "\\(cuda/src/linear.cu:\\d+\\)"), emu.lastError());
            assertNotEquals(0, emu.dropoutForward(dev.address(), dev.address(), 4, 1f, 1, 1));
            assertTrue(emu.lastError().startsWith("dropout_forward: p must be in [0, 1)"), emu.lastError());
            assertNotEquals(0, emu.adamUpdate(dev.address(), dev.address(), dev.address(), dev.address(), 0, 4, 1e-3f,
                    0.9f, 0.999f, 1e-8f, 0));
            assertTrue(emu.lastError().startsWith("adam_update: step must be >= 1"), emu.lastError());
            try (DoublePointer c = new DoublePointer(1)) {
                assertNotEquals(0, emu.enmeshment(dev.address(), dev.address(), dev.address(), 1, 1, 1, 0, 1f, 0, c));
                assertTrue(emu.lastError().startsWith("enmeshment: k must be in [1, 65536]"), emu.lastError());
            }
            try (DoublePointer loss = new DoublePointer(1); IntPointer correct = new IntPointer(1)) {
                assertNotEquals(0, emu.softmaxXent(dev.address(), dev.address(), 0, 1, 4, 1f, loss, null));
                assertTrue(emu.lastError().startsWith("softmax_xent: logits, labels, loss_sum and correct must not be null"),
                        emu.lastError());
            }
        }
        // and the emulator works afterwards
        try (CudaBuffer b = CudaBuffer.of(emu, new float[] {1f, 2f})) {
            assertArrayEquals(new float[] {1f, 2f}, b.toFloats());
        }
    }

    /** Whether the real library sees a device (then the no-GPU checks skip, visibly, and the GPU ones run). */
    private static boolean gpuPresent() {
        try (IntPointer count = new IntPointer(1)) {
            return CudaApi.device().deviceCount(count) == 0 && count.get() > 0;
        }
    }

    @Test
    void realLibraryFailsWithTheReasonWhereThereIsNoGpu() {
        CudaApi real = CudaApi.device();
        assertEquals(real.buildKind() == 2 ? "cuda-emu" : "cuda", real.name());
        assertTrue(real.buildKind() == 0 || real.buildKind() == 1, "libcleave_cuda is the nvcc build or the stub: " + real.buildKind());
        assumeFalse(gpuPresent(), "a GPU is present: realLibraryWorksOnAGpu checks the real library instead");
        try (LongPointer p = new LongPointer(1)) {
            int status = real.malloc(p, 1024);
            assertNotEquals(0, status, "malloc without a GPU");
            String why = real.lastError();
            // the real library: the CUDA error as it is (no driver, no device), not "out of memory"
            assertTrue(real.buildKind() == 0 ? why.contains("built without CUDA")
                    : why.startsWith("malloc: cudaMalloc failed: ") && why.contains(", cuda error "), why);
            NativeException e = assertThrows(NativeException.class, () -> real.check(status));
            assertEquals(NativeStatus.DEVICE_ERROR, e.status(), why);
        }
        try (DoublePointer loss = new DoublePointer(1); IntPointer correct = new IntPointer(1)) {
            assertNotEquals(0, real.softmaxXent(8, 8, 0, 1, 1, 1f, loss, correct), "softmax_xent without a GPU");
            assertTrue(!real.lastError().isEmpty());
        }
    }

    @Test
    void realLibraryWorksOnAGpu() {
        assumeTrue(gpuPresent(), "no CUDA device here: realLibraryFailsWithTheReasonWhereThereIsNoGpu checks the library");
        CudaApi real = CudaApi.device();
        assertEquals(1, real.buildKind(), "a device was found, so the library must be the nvcc build");
        real.check(real.setDevice(0));
        float[] values = {1f, -2f, 3f};
        try (CudaBuffer b = CudaBuffer.of(real, values)) {
            assertArrayEquals(values, b.toFloats());
            NativeArgumentException e = assertThrows(NativeArgumentException.class,
                    () -> real.check(real.linearForward(b.address(), b.address(), 0, b.address(), 0, 1, 1, 0)));
            assertEquals("linear_forward", e.op());
            assertEquals("cuda/src/linear.cu", e.file());
        }
    }

    @Test
    void emulatorCountsLaunches() {
        try (CudaBuffer x = CudaBuffer.zeros(emu, 1000); CudaBuffer mask = CudaBuffer.zeros(emu, 1000);
                LongPointer launches = new LongPointer(1); LongPointer blocks = new LongPointer(1);
                LongPointer threads = new LongPointer(1)) {
            emu.check(CudaEmuKernels.cleave_cuda_emu_reset_stats());
            emu.check(CudaEmuKernels.cleave_cuda_emu_stats(launches, blocks, threads, null, null));
            assertEquals(0, launches.get());
            emu.check(emu.dropoutForward(x.address(), mask.address(), 1000, 0.5f, 1, 2));
            emu.check(emu.dropoutBackward(x.address(), mask.address(), 1000));
            emu.check(CudaEmuKernels.cleave_cuda_emu_stats(launches, blocks, threads, null, null));
            assertEquals(2, launches.get(), "one launch per elementwise op");
            // both elementwise kernels launch blocks of 256 threads (cuda/src/elementwise.cu)
            assertTrue(blocks.get() >= 2, blocks.get() + " blocks");
            assertEquals(256 * blocks.get(), threads.get());
        }
    }
}
