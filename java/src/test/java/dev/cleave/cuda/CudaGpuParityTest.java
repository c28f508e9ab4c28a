package dev.cleave.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nn.CudaProbe;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * The parity suite on a real GPU through libcleave_cuda. Skipped, with the reason, where there
 * is no usable device (no nvcc at build time, no driver, driver too old, no GPU, no kernel image
 * for it): never passed silently. Runs in the synchronous checking mode, so a kernel that faults
 * fails its own test, named. On a GPU box: {@code mvn -B -pl java test -Dtest='CudaGpuParityTest'}.
 */
class CudaGpuParityTest extends CudaFusedStepParityChecks {
    private static final List<Schedule> DEVICE = List.of(new Schedule("GPU", false));
    private CudaProbe probe;

    /** Per test, not per class: so that each test is reported as skipped, with the reason. */
    @BeforeEach
    void requireDevice() {
        if (probe == null) {
            probe = CudaProbe.probe();
        }
        Assumptions.assumeTrue(probe.problem() == null, () -> "no usable CUDA device: " + probe.problem());
        assertEquals(1, api().buildKind(), "libcleave_cuda is the nvcc build");
        api().check(api().setDevice(probe.device()));
        api().check(api().setSyncCheck(true));
        assertTrue(api().syncCheck(), "the synchronous checking mode is on");
    }

    @Override
    protected CudaApi api() {
        return CudaApi.device();
    }

    @Override
    protected List<Schedule> schedules() {
        return DEVICE;
    }

    @Override
    protected void use(Schedule s) {}

    /** Shapes whose GEMMs use the 64 x 64 tiles on a GPU with up to ~500 SMs, and several waves of them. */
    @Override
    protected int[][] extraLinearShapes() {
        return new int[][] {{1500, 1100, 1300}, {2048, 784, 1024}, {4097, 257, 1031}};
    }
}
