package dev.cleave.cluster;

import dev.cleave.nn.CudaProbe;
import dev.cleave.nn.Device;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@link CudaClusteringChecks} on a real GPU ({@link Device.Kind#CUDA}). Skipped, with the reason,
 * where there is no usable device. On a GPU box: {@code mvn -B -pl java test -Dtest='CudaGpuClusteringTest'}.
 */
class CudaGpuClusteringTest extends CudaClusteringChecks {
    private static CudaProbe probe;

    /** Per test, so that each is reported as skipped with the reason. */
    @BeforeEach
    void requireDevice() {
        if (probe == null) {
            probe = CudaProbe.probe();
        }
        Assumptions.assumeTrue(probe.problem() == null, () -> "no usable CUDA device: " + probe.problem());
    }

    @Override
    Device backend() {
        return Device.resolve("cuda", 2, msg -> {});
    }
}
