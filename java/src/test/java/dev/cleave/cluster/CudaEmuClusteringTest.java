package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Json;
import dev.cleave.nativ.CudaEmuKernels;
import dev.cleave.nn.CudaProbe;
import dev.cleave.nn.Device;
import dev.cleave.util.InvalidInputException;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** {@link CudaClusteringChecks} on the CPU emulation of the CUDA kernels ({@link Device.Kind#CUDA_EMU}). */
class CudaEmuClusteringTest extends CudaClusteringChecks {
    @Override
    Device backend() {
        return Device.cudaEmu();
    }

    /** The work really runs in the CUDA kernels: every spectral kernel is launched by one clustering. */
    @Test
    void clusteringRunsTheDeviceKernels() {
        CudaEmuKernels.cleave_cuda_emu_reset_stats();
        SpectralClustering.cluster(TestGraphs.glorot(new int[] {30, 20, 20, 6}, 8),
                ClusterOptions.defaults().withK(3).withSolver(Solver.ITERATIVE).withNInit(2).withBackend(Device.cudaEmu()));
        String log;
        try (BytePointer buf = new BytePointer(1 << 16)) {
            assertEquals(0, CudaEmuKernels.cleave_cuda_emu_launched(buf, 1 << 16));
            log = buf.getString();
        }
        for (String k : new String[] {"spectral_dense_kernel<T>", "spectral_dense_kernel<N>", "spectral_scale_kernel",
            "block_gram_partial_kernel", "block_sum_chunks_kernel", "block_sub_mul_kernel", "block_mul_square_kernel",
            "block_residual_partial_kernel", "block_chebyshev_step_kernel", "block_copy_kernel", "kmeans_assign_kernel"}) {
            assertTrue(log.contains(k + "="), k + " not launched: " + log);
        }
    }

    @Test
    void deviceNamesRoundTrip() {
        assertEquals(Device.Kind.CUDA_EMU, Device.Kind.parse("cuda-emu"));
        assertEquals(Device.Kind.CUDA, Device.Kind.parse("CUDA"));
        assertEquals("cuda-emu", Device.cudaEmu().toString());
        ClusterOptions o = ClusterOptions.defaults().withBackend(Device.cudaEmu());
        String json = Json.write(o);
        assertTrue(json.contains("\"backend\":\"cuda-emu\""), json);
        assertEquals(o, Json.read(json, ClusterOptions.class));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Device.Kind.parse("gpu"));
        assertTrue(e.getMessage().contains("cuda-emu"), e.getMessage());
    }

    /** Where CUDA cannot run, resolving the device is the error (with the reason); nothing below probes again. */
    @Test
    void cudaWithoutAUsableGpuFailsWithTheReason() {
        CudaProbe probe = CudaProbe.probe();
        Assumptions.assumeTrue(probe.problem() != null, "this machine has a usable GPU");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Device.resolve("cuda", 1, msg -> {}));
        assertTrue(e.getMessage().contains("--backend cuda cannot run here") && e.getMessage().contains(probe.problem()),
                e.getMessage());
        StringBuilder log = new StringBuilder();
        Device auto = Device.resolve("auto", 1, log::append);
        assertEquals(Device.Kind.CPU, auto.kind());
        assertTrue(auto.choice().contains(probe.problem()) && log.toString().contains(auto.choice()), auto.choice() + " / " + log);
    }

    @Test
    void blocksBeyondTheDeviceLimitAreRejected() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> LaplacianEigensolver.smallest(
                TestGraphs.cycle(301), EigenOptions.defaults(250).withSolver(Solver.ITERATIVE).withBackend(Device.cudaEmu())));
        assertTrue(e.getMessage().contains("at most 256"), e.getMessage());
    }
}
