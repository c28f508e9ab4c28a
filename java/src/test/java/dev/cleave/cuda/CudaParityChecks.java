package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cleave.Tolerance;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.CudaBuffer;
import dev.cleave.nn.Backend;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.IntTensor;
import dev.cleave.nn.Tensor;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.bytedeco.javacpp.annotation.Name;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every kernel of cuda/include/cleave_cuda.h against its cpu counterpart (libcleave_cpu through
 * {@link CpuBackend} and {@link ModularKernels}), on seeded random inputs of awkward sizes: one
 * row, odd widths, partial tiles in both GEMM tile shapes, lengths that are not multiples of the
 * warp or block size, grid-stride loops of several rounds, and the error paths. Tolerance is
 * abs + |cpu| * rel; dropout masks must match bit for bit. Run by {@link CudaEmuParityTest} on
 * the CPU emulation under several thread schedules, and by {@link CudaGpuParityTest} on a real
 * GPU. The checks are split by op family, each file extending the one before:
 * {@link CudaTrainingParityChecks} (linear, softmax_xent, dropout, weight_penalty, adam_update,
 * enmeshment, a chained training step), {@link CudaSpectralParityChecks} (spectral_op_apply, the
 * eigensolver's block kernels, kmeans_assign) and {@link CudaConvParityChecks} (conv2d, maxpool2d,
 * batchnorm2d). This base holds the schedules, the shared helpers and the coverage checks: the
 * last test fails when a kernel of the op list has no parity test that passed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class CudaParityChecks {
    /** One way of running the kernels: an emulator schedule, or the GPU. Small: only the small cases. */
    record Schedule(String name, boolean small) {}


    private final Set<String> verified = new TreeSet<>();
    Backend cpu;

    protected abstract CudaApi api();

    protected abstract List<Schedule> schedules();

    /** Makes {@code s} the way the next kernels run. */
    protected abstract void use(Schedule s);

    /** Extra linear shapes (the GPU suite adds ones large enough for its 64 x 64 tiles). */
    protected int[][] extraLinearShapes() {
        return new int[0][];
    }

    @BeforeAll
    void startCpu() {
        cpu = new CpuBackend(1);
    }

    @AfterAll
    void stopCpu() {
        if (cpu != null) {
            cpu.close();
        }
    }

    // ---- helpers shared by the op families ----
    CudaBuffer dev(float[] v) {
        return CudaBuffer.of(api(), v);
    }

    CudaBuffer dev(int[] v) {
        return CudaBuffer.of(api(), v);
    }

    static float[] gaussian(Random r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    static Tensor tensor(float[] v, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        t.copyFrom(v);
        return t;
    }

    static Tensor row(float[] v) {
        return tensor(v, 1, v.length);
    }

    static IntTensor ints(int[] v) {
        IntTensor t = new IntTensor(v.length);
        for (int i = 0; i < v.length; i++) {
            t.set(i, v[i]);
        }
        return t;
    }

    /** Records that {@code kernel} passed its parity test (subclasses such as CudaConvParityChecks add theirs). */
    protected void verified(String kernel) {
        synchronized (verified) {
            verified.add(kernel);
        }
    }

    /** Runs {@code check} once per schedule; the small schedules get only the cases where small is true. */
    void forEachSchedule(java.util.function.Consumer<Schedule> check) {
        for (Schedule s : schedules()) {
            use(s);
            check.accept(s);
        }
    }


    // ---- coverage ----
    /** The kernels of the C ABI: the CLEAVE_CUDA_KERNEL declarations of cuda/include/cleave_cuda.h. */
    /** The kernels of the op list (CLEAVE_CUDA_KERNEL_OP entries of cuda/include/cleave_cuda_ops.h). */
    static Set<String> abiKernels() throws IOException {
        return opList(true);
    }

    /** The entries of the op list: the kernels only, or every entry. */
    static Set<String> opList(boolean kernelsOnly) throws IOException {
        String ops = Files.readString(repoRoot().resolve("cuda/include/cleave_cuda_ops.h"));
        Matcher m = Pattern.compile("(?m)^CLEAVE_CUDA_(KERNEL_)?OP\\([^,]+, (\\w+),").matcher(ops);
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            if (!kernelsOnly || m.group(1) != null) {
                names.add(m.group(2));
            }
        }
        assertTrue(names.size() >= 8, "found only " + names + " in cleave_cuda_ops.h");
        return names;
    }

    static Path repoRoot() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("cuda/include/cleave_cuda.h"))) {
                return p;
            }
        }
        throw new IllegalStateException("no cuda/include/cleave_cuda.h above " + dir);
    }

    /** The entry names ({@code @Name}) of CudaApi's native methods: what it binds of the table. */
    private static Set<String> boundEntries() {
        Set<String> names = new TreeSet<>();
        for (Method m : CudaApi.class.getDeclaredMethods()) {
            Name n = m.getAnnotation(Name.class);
            if (n != null && java.lang.reflect.Modifier.isNative(m.getModifiers())) {
                names.addAll(Arrays.asList(n.value()));
            }
        }
        return names;
    }

    /** Fails when an entry of the op list has no CudaApi method, or CudaApi binds a name the list lacks. */
    @Test
    @Order(999)
    void cudaApiBindsEveryEntryOfTheOpList() throws IOException {
        assertEquals(opList(false), boundEntries(), "CudaApi's @Name methods must be the entries of cleave_cuda_ops.h");
    }

    /** Fails when a kernel of the op list lacks a binding or a parity test that ran and passed in this class. */
    @Test
    @Order(1000)
    void everyKernelOfTheAbiHasAPassingParityTest() throws IOException {
        Set<String> bound = boundEntries();
        Set<String> missing = new TreeSet<>();
        for (String k : abiKernels()) {
            List<String> why = new ArrayList<>();
            if (!bound.contains(k)) {
                why.add("no CudaApi method with @Name(\"" + k + "\")");
            }
            if (!verified.contains(k)) {
                why.add("no parity test verified it in " + getClass().getSimpleName()
                        + " (add one to CudaParityChecks, or see the failures above)");
            }
            if (!why.isEmpty()) {
                missing.add(k + ": " + String.join(", ", why));
            }
        }
        if (!missing.isEmpty()) {
            fail("kernels of cuda/include/cleave_cuda_ops.h without a binding or a passing parity test: " + missing);
        }
    }

    /** Sanity: the assertion helpers fail when they should. */
    @Test
    @Order(0)
    void comparisonsReportMismatches() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> Tolerance.assertClose("x", new float[] {1f, 2f}, new float[] {1f, 2.5f}, 1e-3, 1e-3));
        assertTrue(e.getMessage().contains("[1] ref=2.0 got=2.5") && e.getMessage().contains("worst abs error 0.5"),
                e.getMessage());
        assertThrows(AssertionError.class, () -> Compare.bits("x", new float[] {0f}, new float[] {-0f}));
        assertThrows(AssertionError.class, () -> Tolerance.assertClose("x", new float[] {1f}, new float[] {Float.NaN}, 1, 1));
    }
}
