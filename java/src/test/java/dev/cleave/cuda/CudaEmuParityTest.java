package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaEmuKernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The parity suite on the CPU emulation of the CUDA kernels (libcleave_cuda_emu: the same .cu
 * sources, compiled by the host compiler with cuda/emu/cuda_emu.h). Every check runs under four
 * fiber schedules (threads of a block in forward, reverse, shuffled and lockstep order: a missing
 * barrier or an order-dependent result shows up as a mismatch in at least one) and, on the small
 * cases, with the threads of a block as real OS threads. The schedule numbers are the index in
 * SCHEDULES (cleave_cuda_emu.h). Also runs the harness's own self-tests, and checks at the end
 * that every __global__ kernel of cuda/src was launched.
 */
class CudaEmuParityTest extends CudaFusedStepParityChecks {
    private static final List<Schedule> SCHEDULES = List.of(new Schedule("emulator, fibers in forward order", false),
            new Schedule("emulator, fibers in reverse order", false), new Schedule("emulator, fibers shuffled", false),
            new Schedule("emulator, OS threads", true), new Schedule("emulator, fibers in lockstep", false));

    @Override
    protected CudaApi api() {
        return CudaApi.emulator();
    }

    @Override
    protected List<Schedule> schedules() {
        return SCHEDULES;
    }

    @Override
    protected void use(Schedule s) {
        int code = SCHEDULES.indexOf(s);
        assertEquals(0, CudaEmuKernels.cleave_cuda_emu_set_schedule(code, 20240611L + code));
    }

    @BeforeAll
    void resetLaunchLog() {
        assertEquals(2, api().buildKind(), "libcleave_cuda_emu reports itself as the emulator");
        CudaEmuKernels.cleave_cuda_emu_reset_stats();
    }

    @Test
    @Order(-1)
    void harnessSelfTestsPass() {
        String names;
        try (BytePointer buf = new BytePointer(4096)) {
            assertEquals(0, CudaEmuKernels.cleave_cuda_emu_selftest_names(buf, 4096));
            names = cString(buf);
        }
        List<String> tests = List.of(names.split(";"));
        assertTrue(tests.contains("faults") && tests.size() >= 7, names);
        for (Schedule s : SCHEDULES) {
            use(s);
            for (String t : tests) {
                // Only the forward and reverse orders promise to expose this missing barrier.
                if (t.equals("missing_barrier_visible") && !s.name().contains("order")) {
                    continue;
                }
                int status = CudaEmuKernels.cleave_cuda_emu_selftest(t);
                assertEquals(0, status, "harness self-test " + t + " on " + s.name() + ": " + api().lastError());
            }
        }
    }

    /** The NUL-terminated string in buf (BytePointer.getString reads up to its limit, past the NUL). */
    private static String cString(BytePointer buf) {
        long n = 0;
        while (n < buf.capacity() && buf.get(n) != 0) {
            n++;
        }
        byte[] bytes = new byte[(int) n];
        buf.get(bytes);
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The __global__ kernels defined in cuda/src/*.cu, except the device probe (never launched). */
    static Set<String> globalKernels() throws IOException {
        Set<String> names = new TreeSet<>();
        Pattern p = Pattern.compile("__global__\\s+void\\s+(?:__launch_bounds__\\((?:[^()]|\\([^()]*\\))*\\)\\s+)?(\\w+)\\s*\\(");
        try (Stream<Path> files = Files.list(repoRoot().resolve("cuda/src"))) {
            for (Path f : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".cu"))::iterator) {
                Matcher m = p.matcher(Files.readString(f));
                while (m.find()) {
                    names.add(m.group(1));
                }
            }
        }
        names.remove("probe_kernel");  // device.cu: launched by test_launch (CudaEmuDeviceTest), not a parity kernel
        return names;
    }

    @Test
    @Order(2000)
    void everyGlobalKernelWasLaunched() throws IOException {
        String log;
        try (BytePointer buf = new BytePointer(1 << 16)) {
            assertEquals(0, CudaEmuKernels.cleave_cuda_emu_launched(buf, 1 << 16));
            log = cString(buf);
        }
        Map<String, Integer> launched = new TreeMap<>();
        for (String entry : log.split(";")) {
            if (entry.isEmpty()) {
                continue;
            }
            String name = entry.substring(0, entry.lastIndexOf('='));
            String base = name.contains("<") ? name.substring(0, name.indexOf('<')) : name;
            launched.merge(base, Integer.parseInt(entry.substring(entry.lastIndexOf('=') + 1)), Integer::sum);
        }
        Set<String> never = new TreeSet<>(globalKernels());
        never.removeAll(launched.keySet());
        if (!never.isEmpty()) {
            fail("__global__ kernels of cuda/src never launched by the parity tests: " + never + "; launched: " + log);
        }
        // Both GEMM tile shapes with every operand layout the linear layer uses.
        for (String variant : List.of("gemm_kernel<32x32,A:k,B:k>", "gemm_kernel<64x64,A:k,B:k>", "gemm_kernel<32x32,A:m,B:n>",
                "gemm_kernel<64x64,A:m,B:n>", "gemm_kernel<32x32,A:k,B:n>", "gemm_kernel<64x64,A:k,B:n>",
                // the convolution's implicit GEMMs in both tile shapes (CudaConvParityChecks)
                "conv_gemm<32x32,fwd>", "conv_gemm<64x64,fwd>", "conv_gemm<32x32,dx>", "conv_gemm<64x64,dx>",
                "conv_gemm<32x32,dw>", "conv_gemm<64x64,dw>")) {
            assertTrue(log.contains(variant + "="), variant + " was never launched: " + log);
        }
    }
}
