package dev.cleave.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** The Java mirror of cleave_status.h, and the typed exceptions native failures become. */
class NativeStatusTest {

    @Test
    void javaStatusListMatchesTheHeader() throws IOException {
        Path header = Path.of("..", "native", "include", "cleave_status.h");
        Matcher m = Pattern.compile("^\\s*CLEAVE_([A-Z_]+) = (-?\\d+),?", Pattern.MULTILINE).matcher(Files.readString(header));
        Map<String, Integer> declared = new LinkedHashMap<>();
        while (m.find()) {
            declared.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        Map<String, Integer> java = new LinkedHashMap<>();
        for (NativeStatus s : NativeStatus.values()) {
            java.put(s.name(), s.code());
        }
        assertEquals(declared, java, "dev.cleave.nativ.NativeStatus must list cleave_status.h's codes");
    }

    @Test
    void eachStatusBecomesItsType() {
        String msg = "linear_forward: batch, in and out must be positive, got 0, 2, 2 (native/src/linear.cpp:88)";
        RuntimeException bad = NativeStatus.exception(NativeStatus.INVALID_ARGUMENT.code(), msg);
        assertInstanceOf(InvalidInputException.class, bad);
        NativeFailure f = (NativeFailure) bad;
        assertEquals("linear_forward", f.op());
        assertEquals("native/src/linear.cpp", f.file());
        assertEquals(88, f.line());
        assertEquals(msg, bad.getMessage());
        assertInstanceOf(NativeNumericException.class, NativeStatus.exception(NativeStatus.NUMERIC_FAILURE.code(), "softmax_xent: row 0 (a.cpp:1)"));
        assertInstanceOf(ArithmeticException.class, NativeStatus.exception(NativeStatus.NUMERIC_FAILURE.code(), "softmax_xent: row 0 (a.cpp:1)"));
        assertInstanceOf(NativeNotConvergedException.class, NativeStatus.exception(NativeStatus.NOT_CONVERGED.code(), "x: y (a.cpp:1)"));
        assertEquals(NativeStatus.INTERNAL_ERROR, ((NativeFailure) NativeStatus.exception(NativeStatus.INTERNAL_ERROR.code(), "m: out of memory")).status());
        // A CUDA runtime code from a device query (35: insufficient driver) is a device error.
        RuntimeException device = NativeStatus.exception(35, "cudaGetDeviceCount: no usable NVIDIA driver (cuda/src/device.cu:24)");
        assertInstanceOf(NativeException.class, device);
        assertEquals(NativeStatus.DEVICE_ERROR, ((NativeFailure) device).status());
        assertEquals(35, ((NativeFailure) device).error().code());
        assertEquals("cudaGetDeviceCount", ((NativeFailure) device).op());
    }

    @Test
    void cpuKernelStatusesAreTyped() {
        NativeLibraries.loadCpu();
        try (FloatPointer x = new FloatPointer(4)) {
            int status = CpuKernels.cleave_linear_forward(x, x, null, x, 0, 2, 2, 0);
            assertEquals(NativeStatus.INVALID_ARGUMENT.code(), status);
            NativeArgumentException e = assertThrows(NativeArgumentException.class, () -> CpuKernels.check(status));
            assertEquals("linear_forward", e.op());
            assertTrue(e.file().equals("native/src/linear.cpp") && e.line() > 0, e.getMessage());
            x.put(0, Float.NaN);
            int prune = CpuKernels.cleave_prune_mask(x, new FloatPointer(4), 4, 0.5f);
            assertEquals(NativeStatus.NUMERIC_FAILURE.code(), prune, CpuKernels.cleave_last_error().getString());
        }
    }

    @Test
    void emulatedCudaStatusesAreTyped() {
        CudaApi emu = CudaApi.emulator();
        long d = emu.mallocOrThrow(64);
        try {
            int status = emu.linearForward(d, d, 0, d, 0, 2, 2, 0);
            NativeArgumentException e = assertThrows(NativeArgumentException.class, () -> emu.check(status));
            assertEquals("linear_forward", e.op());
            assertTrue(e.file().equals("cuda/src/linear.cu") && e.line() > 0, e.getMessage());
        } finally {
            emu.check(emu.free(d));
        }
        // A failing CUDA runtime call (an allocation far beyond the emulated device) is a device error.
        NativeException huge = assertThrows(NativeException.class, () -> emu.mallocOrThrow(1L << 40));
        assertEquals(NativeStatus.DEVICE_ERROR, huge.status());
        assertEquals("malloc", huge.op());
    }

    /**
     * The argument checks in cleave_shared.h give the same message from both libraries, each
     * naming its own source file: block_copy and block_chebyshev_step on the cpu and the emulator.
     */
    @Test
    void sharedBlockChecksSayTheSameOnBothLibraries() {
        NativeLibraries.loadCpu();
        CudaApi emu = CudaApi.emulator();
        double[] h = new double[8];
        long d = emu.mallocOrThrow(8 * Double.BYTES);
        try {
            // columns [3, 5) do not fit rows of 4
            assertSameCheck("block_copy: need columns [s0, s0 + c) within lds and [d0, d0 + c) within ldd; got n = 2, s0 = 3, "
                    + "d0 = 0, c = 2, lds = 4, ldd = 4",
                    SpectralKernels.cleave_block_copy(2, h, 4, 3, h, 4, 0, 2), emu.blockCopy(2, d, 4, 3, d, 4, 0, 2), emu);
            assertSameCheck("block_copy: src and dst must not be null",
                    SpectralKernels.cleave_block_copy(2, (double[]) null, 4, 0, h, 4, 0, 2), emu.blockCopy(2, 0, 4, 0, d, 4, 0, 2),
                    emu);
            assertSameCheck("block_chebyshev_step: count must be >= 0, got -1",
                    SpectralKernels.cleave_block_chebyshev_step(-1, 1, 0, 0, null, h, h, 1),
                    emu.blockChebyshevStep(-1, 1, 0, 0, 0, d, d), emu);
            assertSameCheck("block_chebyshev_step: y1 and y2 must not be null",
                    SpectralKernels.cleave_block_chebyshev_step(4, 1, 0, 0, null, (double[]) null, h, 1),
                    emu.blockChebyshevStep(4, 1, 0, 0, 0, 0, d), emu);
        } finally {
            emu.check(emu.free(d));
        }
    }

    private static void assertSameCheck(String message, int cpuStatus, int emuStatus, CudaApi emu) {
        assertEquals(NativeStatus.INVALID_ARGUMENT.code(), cpuStatus);
        assertEquals(NativeStatus.INVALID_ARGUMENT.code(), emuStatus);
        String cpu = CpuKernels.cleave_last_error().getString(), cuda = emu.lastError();
        assertTrue(cpu.matches(Pattern.quote(message) + " \\(native/src/spectral_eigs\\.cpp:\\d+\\)"), cpu);
        assertTrue(cuda.matches(Pattern.quote(message) + " \\(cuda/src/spectral\\.cu:\\d+\\)"), cuda);
    }
}
