package dev.cleave.nn;

import dev.cleave.nativ.CudaApi;
import dev.cleave.nativ.NativeLibraries;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * What the CUDA library and driver can do on this machine, and the ONE device the process uses:
 * whether libcleave_cuda is the real nvcc build or the stub, the driver's CUDA version, each
 * device (described without creating a context on it), and {@link #device()}, the chosen one
 * (the first device with a usable kernel image, or the one {@code --device N} asks for; the
 * indices are those CUDA_VISIBLE_DEVICES leaves visible). The chosen device's context is created
 * by the probe and it becomes the device of every host thread of the process (cleave_cuda.h's
 * set_device). {@link #problem()} is the reason CUDA cannot be used (null when it can).
 *
 * <p>The decision is made here, in Java, from the facts a {@link Table} reports, so it is tested
 * with fake device tables ({@code CudaProbeTest}); {@link #probe()} uses the native library's.
 */
public record CudaProbe(String library, boolean real, int runtimeVersion, int driverVersion, List<Device> devices,
        int device, String problem) {

    /** No device is chosen. */
    public static final int NONE = -1;

    /** What this library holds for a device: SASS, PTX only (compiled by the driver at first launch), or nothing. */
    public enum Image { NONE, SASS, PTX }

    /** cudaComputeMode values. */
    public static final int COMPUTE_DEFAULT = 0, COMPUTE_PROHIBITED = 2, COMPUTE_EXCLUSIVE_PROCESS = 3;

    /**
     * One GPU: name, compute capability, memory, the code this build has for it, its compute mode,
     * SM count and FP32:FP64 throughput ratio, and why it could not be used ({@code error}: the
     * CUDA error as the library reported it, code, name and string; null if none).
     */
    public record Device(int index, String name, int major, int minor, long memoryBytes, Image image, int computeMode,
            int smCount, int fp64Ratio, String error) {
        public boolean hasKernelImage() {
            return image != Image.NONE;
        }

        /** FP64 at 1/8 of FP32 or slower (sm_86, sm_89, sm_120, ...): the spectral engine, all double, runs slowly. */
        public boolean slowFp64() {
            return fp64Ratio > 8;
        }

        Device withError(String e) {
            return new Device(index, name, major, minor, memoryBytes, image, computeMode, smCount, fp64Ratio, e);
        }

        @Override
        public String toString() {
            return index + ": " + name + " (compute capability " + major + "." + minor + ", "
                    + (memoryBytes >> 20) + " MiB, " + switch (image) {
                        case SASS -> "SASS";
                        case PTX -> "PTX only: JIT-compiled by the driver";
                        case NONE -> "no kernel image";
                    } + (computeMode == COMPUTE_PROHIBITED ? ", compute mode prohibited"
                            : computeMode == COMPUTE_EXCLUSIVE_PROCESS ? ", exclusive-process" : "")
                    + (error != null ? "; " + error : "") + ")";
        }
    }

    /** The chosen device, or null. */
    public Device chosen() {
        return device == NONE ? null : devices.stream().filter(d -> d.index() == device).findFirst().orElse(null);
    }

    /**
     * The facts the probe decides from: the native library's (cleave_cuda.h) or a test's fake.
     * Methods returning int return 0 or the CUDA error code, with {@link #lastError()} saying why.
     */
    public interface Table {
        /** 1 = built by nvcc, 0 = the stub. */
        int buildKind();

        int runtimeVersion();

        /** Writes the driver's CUDA version (0: no driver) into out[0]. */
        int driverVersion(int[] out);

        int deviceCount(int[] out);

        /** Describes device i, without creating a context; error is null. */
        int deviceInfo(int i, Device[] out);

        /** Makes device i the process's device, creating its context. */
        int open(int i);

        /** A tiny kernel on the process's device, waited for (the PTX JIT happens here). */
        int testLaunch();

        /** The architectures compiled in, e.g. "SASS for sm_80, sm_90; PTX for compute_90". */
        String archs();

        String lastError();
    }

    /** cudaErrorUnsupportedPtxVersion: the PTX was made by a newer CUDA than the driver can compile. */
    public static final int UNSUPPORTED_PTX_VERSION = 222;
    static final int INSUFFICIENT_DRIVER = 35, NO_DEVICE = 100, MEMORY_ALLOCATION = 2, DEVICES_UNAVAILABLE = 46,
            INVALID_DEVICE = 101;

    private static final Map<Integer, CudaProbe> CACHE = new HashMap<>();
    private static CudaProbe active;

    /** The probe with the automatic choice of device (cached for the process). */
    public static CudaProbe probe() {
        return probe(NONE);
    }

    /**
     * The probe with device {@code requested} (an index among the visible devices; {@link #NONE}
     * for the automatic choice), cached per request for the process. The chosen device becomes
     * the process's device: {@link #active()}.
     */
    public static synchronized CudaProbe probe(int requested) {
        CudaProbe p = CACHE.get(requested);
        if (p == null) {
            p = probeLibrary(requested);
            CACHE.put(requested, p);
        }
        if (p.device != NONE && (active == null || active.device != p.device)) {
            // Another request switched the process's device in between: switch it back.
            if (active != null) {
                CudaApi.device().setDevice(p.device);
            }
            active = p;
        }
        return p;
    }

    /** The probe whose device the process uses now (the automatic choice if nothing chose yet). */
    public static synchronized CudaProbe active() {
        return active != null ? active : probe();
    }

    private static CudaProbe probeLibrary(int requested) {
        String library;
        try {
            library = NativeLibraries.loadCuda();
        } catch (Throwable e) {
            return new CudaProbe("not loaded", false, 0, 0, List.of(), NONE,
                    "libcleave_cuda could not be loaded: " + e.getMessage());
        }
        return probe(new NativeTable(), library, requested);
    }

    /** Decides from {@code table}: the driver check, the devices, the chosen device (whose context it creates). */
    public static CudaProbe probe(Table table, String library, int requested) {
        boolean real = table.buildKind() == 1;
        int runtime = table.runtimeVersion();
        if (!real) {
            return new CudaProbe(library, false, 0, 0, List.of(), NONE, table.lastError());
        }
        int[] v = new int[1];
        if (table.driverVersion(v) != 0 || v[0] == 0) {
            return new CudaProbe(library, true, runtime, v[0], List.of(), NONE,
                    "no usable NVIDIA driver was found (libcuda.so.1 could not be loaded): install the NVIDIA driver"
                            + driverAdvice(runtime));
        }
        int driver = v[0];
        // CUDA's minor-version compatibility: a driver of the same major version runs this build's
        // SASS (a PTX-only GPU is checked by a real launch below).
        if (driver / 1000 < runtime / 1000) {
            return new CudaProbe(library, true, runtime, driver, List.of(), NONE, "the NVIDIA driver supports CUDA "
                    + version(driver) + " but this library was built with CUDA " + version(runtime)
                    + ", which needs a driver for CUDA " + runtime / 1000 + ".x: update the NVIDIA driver"
                    + driverAdvice(runtime));
        }
        int[] n = new int[1];
        int status = table.deviceCount(n);
        if (status != 0) {
            return new CudaProbe(library, true, runtime, driver, List.of(), NONE,
                    status == NO_DEVICE ? "the NVIDIA driver is installed but reports no GPU (" + table.lastError() + ")"
                            : table.lastError());
        }
        List<Device> devices = new ArrayList<>();
        Device[] d = new Device[1];
        for (int i = 0; i < n[0]; i++) {
            if (table.deviceInfo(i, d) == 0) {
                devices.add(d[0]);
            } else {
                devices.add(new Device(i, "?", 0, 0, 0, Image.NONE, COMPUTE_DEFAULT, 0, 0, table.lastError()));
            }
        }
        if (devices.isEmpty()) {
            return new CudaProbe(library, true, runtime, driver, List.of(), NONE,
                    "the NVIDIA driver is installed but reports no GPU");
        }
        if (requested != NONE && (requested < 0 || requested >= devices.size())) {
            return new CudaProbe(library, true, runtime, driver, List.copyOf(devices), NONE, "--device " + requested
                    + " does not exist: " + devices.size() + " GPU" + (devices.size() == 1 ? " is" : "s are")
                    + " visible (0.." + (devices.size() - 1) + (System.getenv("CUDA_VISIBLE_DEVICES") != null
                            ? ", after CUDA_VISIBLE_DEVICES=" + System.getenv("CUDA_VISIBLE_DEVICES") : "")
                    + ")");
        }
        String firstProblem = null;
        int chosen = NONE;
        for (int i = 0; i < devices.size() && chosen == NONE; i++) {
            if (requested != NONE && i != requested) {
                continue;
            }
            Device dev = devices.get(i);
            String why = unusable(dev, table.archs());
            if (why == null) {
                // Only now a context: on the device that will be used.
                if (table.open(i) != 0) {
                    why = openFailure(dev, table.lastError());
                } else if (dev.image() == Image.PTX && table.testLaunch() != 0) {
                    why = launchFailure(dev, table.lastError(), driver, runtime);
                }
            }
            if (why == null) {
                chosen = i;
            } else {
                if (dev.error() == null) {
                    devices.set(i, dev.withError(why));
                }
                if (firstProblem == null) {
                    firstProblem = "GPU " + i + " (" + dev.name() + "): " + why;
                }
            }
        }
        String problem = chosen != NONE ? null
                : requested != NONE || devices.size() == 1 ? firstProblem
                : "no GPU is usable; the first: " + firstProblem;
        return new CudaProbe(library, true, runtime, driver, List.copyOf(devices), chosen, problem);
    }

    /** Why a device cannot be used, decided without a context; null if it can be tried. */
    private static String unusable(Device d, String archs) {
        if (d.error() != null) {
            return d.error();
        }
        if (d.image() == Image.NONE) {
            return "no kernel image for compute capability " + d.major() + "." + d.minor() + ": this build has "
                    + archs + " (SASS for sm_XY runs on X.Y and later X.*, PTX on every later GPU)";
        }
        if (d.computeMode() == COMPUTE_PROHIBITED) {
            return "the GPU is in compute mode 'prohibited' (nvidia-smi -c): no process may use it";
        }
        return null;
    }

    private static String openFailure(Device d, String error) {
        if (error.contains("cuda error " + DEVICES_UNAVAILABLE + "]")) {
            return "the GPU is busy or unavailable"
                    + (d.computeMode() == COMPUTE_EXCLUSIVE_PROCESS ? " (exclusive-process mode: another process holds it)" : "")
                    + ": " + error;
        }
        if (error.contains("cuda error " + MEMORY_ALLOCATION + "]")) {
            return "out of device memory: no context could be created (other processes hold the memory): " + error;
        }
        return error;
    }

    private static String launchFailure(Device d, String error, int driver, int runtime) {
        if (error.contains("cuda error " + UNSUPPORTED_PTX_VERSION + "]")) {
            return "PTX too new for the driver: this GPU (compute capability " + d.major() + "." + d.minor()
                    + ") has no SASS in this build, and the driver (CUDA " + version(driver)
                    + ") cannot compile PTX made by CUDA " + version(runtime)
                    + ": update the NVIDIA driver to one for CUDA " + version(runtime) + " or newer: " + error;
        }
        return "a test launch failed: " + error;
    }

    private static String driverAdvice(int runtime) {
        return runtime / 1000 == 13 ? " (R580 or newer for CUDA 13)" : "";
    }

    /** CUDA version number (e.g. 13000) as "13.0". */
    public static String version(int v) {
        return v <= 0 ? "none" : (v / 1000) + "." + (v % 1000) / 10;
    }

    /** The native library's table (cleave_cuda.h). */
    private static final class NativeTable implements Table {
        private int[] sass, ptx;

        @Override
        public int buildKind() {
            return CudaApi.device().buildKind();
        }

        @Override
        public int runtimeVersion() {
            return CudaApi.device().runtimeVersion();
        }

        @Override
        public int driverVersion(int[] out) {
            try (IntPointer v = new IntPointer(1)) {
                int s = CudaApi.device().driverVersion(v);
                out[0] = v.get();
                return s;
            }
        }

        @Override
        public int deviceCount(int[] out) {
            try (IntPointer n = new IntPointer(1)) {
                int s = CudaApi.device().deviceCount(n);
                out[0] = n.get();
                return s;
            }
        }

        @Override
        public int deviceInfo(int i, Device[] out) {
            try (BytePointer name = new BytePointer(256); IntPointer major = new IntPointer(1);
                    IntPointer minor = new IntPointer(1); LongPointer mem = new LongPointer(1);
                    IntPointer image = new IntPointer(1); IntPointer mode = new IntPointer(1);
                    IntPointer sms = new IntPointer(1); IntPointer ratio = new IntPointer(1)) {
                int s = CudaApi.device().deviceInfo(i, name, 256, major, minor, mem, image);
                if (s == 0) {
                    s = CudaApi.device().deviceAttrs(i, mode, sms, ratio);
                }
                if (s != 0) {
                    return s;
                }
                Image img = switch (image.get()) {
                    case 1 -> Image.SASS;
                    case 2 -> Image.PTX;
                    default -> Image.NONE;
                };
                out[0] = new Device(i, cString(name), major.get(), minor.get(), mem.get(), img, mode.get(), sms.get(),
                        ratio.get(), null);
                return 0;
            }
        }

        @Override
        public int open(int i) {
            return CudaApi.device().setDevice(i);
        }

        @Override
        public int testLaunch() {
            return CudaApi.device().testLaunch();
        }

        @Override
        public String archs() {
            try (IntPointer sass = new IntPointer(32); IntPointer ns = new IntPointer(1); IntPointer ptx = new IntPointer(32);
                    IntPointer np = new IntPointer(1)) {
                CudaApi.device().kernelArchs(sass, ns, ptx, np, 32);
                StringBuilder b = new StringBuilder("SASS for");
                for (int i = 0; i < ns.get(); i++) {
                    b.append(i == 0 ? " sm_" : ", sm_").append(sass.get(i));
                }
                b.append("; PTX for");
                for (int i = 0; i < np.get(); i++) {
                    b.append(i == 0 ? " compute_" : ", compute_").append(ptx.get(i));
                }
                return b.toString();
            }
        }

        @Override
        public String lastError() {
            return CudaApi.device().lastError();
        }
    }

    /** The NUL-terminated string in a fixed-size buffer. */
    private static String cString(BytePointer buffer) {
        String s = buffer.getString();
        int end = s.indexOf('\0');
        return end < 0 ? s : s.substring(0, end);
    }
}
