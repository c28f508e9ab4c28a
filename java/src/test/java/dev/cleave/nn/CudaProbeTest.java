package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nn.CudaProbe.Device;
import dev.cleave.nn.CudaProbe.Image;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The probe's decisions on fake device tables: device choice, driver/runtime pairs, CUDA errors. No GPU needed. */
class CudaProbeTest {

    /** A fake box: driver and runtime versions, devices, and the CUDA error (code) opening or test-launching each returns. */
    static final class FakeTable implements CudaProbe.Table {
        int runtime = 13000, driver = 13000;
        final List<Device> devices = new ArrayList<>();
        Map<Integer, Integer> openErrors = Map.of(), launchErrors = Map.of();
        final List<Integer> opened = new ArrayList<>();
        final List<Integer> launched = new ArrayList<>();
        private int current = -1;
        private String last = "";

        FakeTable add(String name, int major, int minor, Image image, int mode, int fp64Ratio) {
            devices.add(new Device(devices.size(), name, major, minor, 40L << 30, image, mode, 108, fp64Ratio, null));
            return this;
        }

        @Override
        public int buildKind() {
            return 1;
        }

        @Override
        public int runtimeVersion() {
            return runtime;
        }

        @Override
        public int driverVersion(int[] out) {
            out[0] = driver;
            return 0;
        }

        @Override
        public int deviceCount(int[] out) {
            out[0] = devices.size();
            if (devices.isEmpty()) {
                last = "cudaGetDeviceCount: no CUDA-capable device is detected [cudaErrorNoDevice, cuda error 100]";
                return 100;
            }
            return 0;
        }

        @Override
        public int deviceInfo(int i, Device[] out) {
            out[0] = devices.get(i);
            return 0;
        }

        @Override
        public int open(int i) {
            opened.add(i);
            Integer e = openErrors.get(i);
            if (e != null) {
                last = "set_device: cudaFree(nullptr) failed: " + (e == 46 ? "CUDA-capable device(s) is/are busy or unavailable [cudaErrorDevicesUnavailable"
                        : "out of memory [cudaErrorMemoryAllocation") + ", cuda error " + e + "] (cuda/src/runtime.cu:250)";
                return e;
            }
            current = i;
            return 0;
        }

        @Override
        public int testLaunch() {
            launched.add(current);
            Integer e = launchErrors.get(current);
            if (e != null) {
                last = "test_launch: launching probe_kernel failed: the provided PTX was compiled with an unsupported "
                        + "toolchain. [cudaErrorUnsupportedPtxVersion, cuda error " + e + "] (cuda/src/device.cu:130)";
                return e;
            }
            return 0;
        }

        @Override
        public String archs() {
            return "SASS for sm_80, sm_90, sm_100, sm_120; PTX for compute_90";
        }

        @Override
        public String lastError() {
            return last;
        }
    }

    private static CudaProbe probe(FakeTable t, int requested) {
        return CudaProbe.probe(t, "fake", requested);
    }

    @Test
    void mixedBoxChoosesTheFirstDeviceWithAKernelImageAndOpensOnlyIt() {
        FakeTable t = new FakeTable().add("Tesla T4", 7, 5, Image.NONE, 0, 32).add("A100", 8, 0, Image.SASS, 0, 2)
                .add("H100", 9, 0, Image.SASS, 0, 2);
        CudaProbe p = probe(t, CudaProbe.NONE);
        assertNull(p.problem());
        assertEquals(1, p.device());
        assertEquals("A100", p.chosen().name());
        assertEquals(List.of(1), t.opened, "a context only on the chosen device");
        assertEquals(List.of(), t.launched, "no test launch for a GPU with SASS");
        assertTrue(p.devices().get(0).error().contains("no kernel image for compute capability 7.5"),
                p.devices().get(0).toString());
    }

    @Test
    void deviceOptionChoosesAnotherAndSaysWhyItCannot() {
        FakeTable t = new FakeTable().add("Tesla T4", 7, 5, Image.NONE, 0, 32).add("A100", 8, 0, Image.SASS, 0, 2)
                .add("H100", 9, 0, Image.SASS, 0, 2);
        CudaProbe p = probe(t, 2);
        assertNull(p.problem());
        assertEquals(2, p.device());
        assertEquals(List.of(2), t.opened);

        FakeTable t0 = new FakeTable().add("Tesla T4", 7, 5, Image.NONE, 0, 32).add("A100", 8, 0, Image.SASS, 0, 2);
        CudaProbe p0 = probe(t0, 0);
        assertEquals(CudaProbe.NONE, p0.device());
        assertTrue(p0.problem().startsWith("GPU 0 (Tesla T4): no kernel image for compute capability 7.5: this build has SASS for sm_80"),
                p0.problem());
        assertEquals(List.of(), t0.opened, "no context on a device without an image");

        CudaProbe p5 = probe(new FakeTable().add("A100", 8, 0, Image.SASS, 0, 2), 5);
        assertTrue(p5.problem().startsWith("--device 5 does not exist: 1 GPU is visible (0..0"), p5.problem());
    }

    @Test
    void busyExclusiveProhibitedAndOutOfMemoryGpusAreSkippedWithTheirCudaError() {
        FakeTable t = new FakeTable().add("A100 prohibited", 8, 0, Image.SASS, CudaProbe.COMPUTE_PROHIBITED, 2)
                .add("A100 exclusive", 8, 0, Image.SASS, CudaProbe.COMPUTE_EXCLUSIVE_PROCESS, 2)
                .add("A100 full", 8, 0, Image.SASS, 0, 2).add("A100 free", 8, 0, Image.SASS, 0, 2);
        t.openErrors = Map.of(1, 46, 2, 2);
        CudaProbe p = probe(t, CudaProbe.NONE);
        assertNull(p.problem());
        assertEquals(3, p.device());
        assertEquals(List.of(1, 2, 3), t.opened, "never a context on the prohibited GPU");
        assertTrue(p.devices().get(0).error().contains("compute mode 'prohibited'"), p.devices().get(0).toString());
        String busy = p.devices().get(1).error();
        assertTrue(busy.contains("exclusive-process mode: another process holds it")
                && busy.contains("[cudaErrorDevicesUnavailable, cuda error 46]"), busy);
        String full = p.devices().get(2).error();
        assertTrue(full.startsWith("out of device memory") && full.contains("[cudaErrorMemoryAllocation, cuda error 2]"), full);

        FakeTable only = new FakeTable().add("A100", 8, 0, Image.SASS, CudaProbe.COMPUTE_EXCLUSIVE_PROCESS, 2);
        only.openErrors = Map.of(0, 46);
        CudaProbe q = probe(only, CudaProbe.NONE);
        assertTrue(q.problem().startsWith("GPU 0 (A100): the GPU is busy or unavailable (exclusive-process mode"), q.problem());
    }

    @Test
    void driverOfTheSameMajorVersionRunsANewerMinorBuild() {
        FakeTable t = new FakeTable().add("H100", 9, 0, Image.SASS, 0, 2);
        t.driver = 13000;
        t.runtime = 13020;
        CudaProbe p = probe(t, CudaProbe.NONE);
        assertNull(p.problem(), "minor-version compatibility: CUDA 13.2 build on a CUDA 13.0 (R580) driver");
        assertEquals(0, p.device());
    }

    @Test
    void olderMajorDriverIsRejectedWithWhatToInstallAndNoDriverOnlyWhenThereIsNone() {
        FakeTable t = new FakeTable().add("H100", 9, 0, Image.SASS, 0, 2);
        t.driver = 12080;
        CudaProbe p = probe(t, CudaProbe.NONE);
        assertEquals("the NVIDIA driver supports CUDA 12.8 but this library was built with CUDA 13.0, which needs a driver "
                + "for CUDA 13.x: update the NVIDIA driver (R580 or newer for CUDA 13)", p.problem());
        assertTrue(t.opened.isEmpty());
        assertTrue(!p.problem().contains("no usable NVIDIA driver"));

        FakeTable none = new FakeTable().add("H100", 9, 0, Image.SASS, 0, 2);
        none.driver = 0;
        assertTrue(probe(none, CudaProbe.NONE).problem().startsWith("no usable NVIDIA driver was found"));

        FakeTable newer = new FakeTable().add("H100", 9, 0, Image.SASS, 0, 2);
        newer.driver = 14010;
        assertNull(probe(newer, CudaProbe.NONE).problem(), "a newer driver runs an older build");
    }

    @Test
    void ptxOnlyGpuIsProbedWithARealLaunchAndError222IsPtxTooNew() {
        FakeTable t = new FakeTable().add("future GPU", 11, 0, Image.PTX, 0, 2).add("H100", 9, 0, Image.SASS, 0, 2);
        t.driver = 13000;
        t.runtime = 13020;
        t.launchErrors = Map.of(0, CudaProbe.UNSUPPORTED_PTX_VERSION);
        CudaProbe p = probe(t, CudaProbe.NONE);
        assertEquals(1, p.device(), "the next GPU is used");
        assertEquals(List.of(0), t.launched, "the PTX-only GPU was test-launched, the SASS one not");
        String e = p.devices().get(0).error();
        assertTrue(e.startsWith("PTX too new for the driver: this GPU (compute capability 11.0) has no SASS in this build, "
                + "and the driver (CUDA 13.0) cannot compile PTX made by CUDA 13.2"), e);
        assertTrue(e.contains("[cudaErrorUnsupportedPtxVersion, cuda error 222]"), e);

        CudaProbe only = probe(t, 0);
        assertTrue(only.problem().startsWith("GPU 0 (future GPU): PTX too new for the driver"), only.problem());
        assertTrue(!only.problem().contains("no kernel image"), only.problem());

        FakeTable ok = new FakeTable().add("future GPU", 11, 0, Image.PTX, 0, 2);
        assertNull(probe(ok, CudaProbe.NONE).problem(), "a PTX-only GPU whose test launch works is used");
    }

    @Test
    void noGpuAndSlowFp64AreReported() {
        CudaProbe p = probe(new FakeTable(), CudaProbe.NONE);
        assertTrue(p.problem().startsWith("the NVIDIA driver is installed but reports no GPU (") && p.problem().contains("cuda error 100"),
                p.problem());
        FakeTable t = new FakeTable().add("RTX 4090", 8, 9, Image.SASS, 0, 64).add("A100", 8, 0, Image.SASS, 0, 2);
        CudaProbe q = probe(t, CudaProbe.NONE);
        assertTrue(q.chosen().slowFp64());
        assertTrue(!q.devices().get(1).slowFp64());
    }
}
