package dev.cleave.nn;

import dev.cleave.nativ.CudaLib;
import dev.cleave.nativ.NativeLibraries;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * What the CUDA library and driver can do on this machine: whether libcleave_cuda is the real
 * nvcc build or the stub, the driver's CUDA version, and each device. {@link #problem()} is
 * the reason CUDA cannot be used (null when it can).
 */
public record CudaProbe(String library, boolean real, int runtimeVersion, int driverVersion, List<Device> devices,
        String problem) {

    /** One GPU: name, compute capability, memory, whether this build carries a kernel image for it. */
    public record Device(int index, String name, int major, int minor, long memoryBytes, boolean hasKernelImage) {}

    /** Probes the library and the driver; never throws for a missing GPU or driver. */
    public static CudaProbe probe() {
        String library;
        try {
            library = NativeLibraries.loadCuda();
        } catch (Throwable e) {
            return new CudaProbe("not loaded", false, 0, 0, List.of(),
                    "libcleave_cuda could not be loaded: " + e.getMessage());
        }
        boolean real = CudaLib.cleave_cuda_is_real() != 0;
        int runtime = CudaLib.cleave_cuda_runtime_version();
        if (!real) {
            return new CudaProbe(library, false, 0, 0, List.of(), CudaLib.cleave_cuda_last_error().getString());
        }
        try (IntPointer v = new IntPointer(1); IntPointer n = new IntPointer(1)) {
            int driver = 0;
            if (CudaLib.cleave_cuda_driver_version(v) != 0) {
                return new CudaProbe(library, true, runtime, 0, List.of(), CudaLib.cleave_cuda_last_error().getString());
            }
            driver = v.get();
            if (driver < runtime) {
                return new CudaProbe(library, true, runtime, driver, List.of(), "the NVIDIA driver supports CUDA "
                        + version(driver) + " but this library was built with CUDA " + version(runtime)
                        + ": install driver R580 or newer");
            }
            if (CudaLib.cleave_cuda_device_count(n) != 0) {
                return new CudaProbe(library, true, runtime, driver, List.of(), CudaLib.cleave_cuda_last_error().getString());
            }
            List<Device> devices = new ArrayList<>();
            try (BytePointer name = new BytePointer(256); IntPointer major = new IntPointer(1);
                    IntPointer minor = new IntPointer(1); LongPointer mem = new LongPointer(1);
                    IntPointer image = new IntPointer(1)) {
                for (int i = 0; i < n.get(); i++) {
                    if (CudaLib.cleave_cuda_device_info(i, name, 256, major, minor, mem, image) == 0) {
                        devices.add(new Device(i, cString(name), major.get(), minor.get(), mem.get(), image.get() != 0));
                    }
                }
            }
            String problem = null;
            if (devices.isEmpty()) {
                problem = "the NVIDIA driver is installed but reports no GPU";
            } else if (devices.stream().noneMatch(Device::hasKernelImage)) {
                Device d = devices.get(0);
                problem = "no kernel image for " + d.name() + " (compute capability " + d.major() + "." + d.minor()
                        + "): this build has SASS for 8.0 and 9.0 and PTX for 9.0+";
            }
            return new CudaProbe(library, true, runtime, driver, List.copyOf(devices), problem);
        }
    }

    /** The NUL-terminated string in a fixed-size buffer. */
    private static String cString(BytePointer buffer) {
        String s = buffer.getString();
        int end = s.indexOf('\0');
        return end < 0 ? s : s.substring(0, end);
    }

    /** CUDA version number (e.g. 13000) as "13.0". */
    public static String version(int v) {
        return v <= 0 ? "none" : (v / 1000) + "." + (v % 1000) / 10;
    }
}
