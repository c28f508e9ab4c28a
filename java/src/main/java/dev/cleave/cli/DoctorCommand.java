package dev.cleave.cli;

import dev.cleave.io.Json;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.NativeLibraries;
import dev.cleave.nn.CudaProbe;
import dev.cleave.nn.Device;
import dev.cleave.util.Versions;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code cleave doctor}: the platform, the libraries loaded and from where, the devices found. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = "Print the platform, the native libraries (and where they were loaded from), and the GPUs found.")
final class DoctorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        common.printHeader(out, "doctor", "auto", common.threads(), common.seed);
        Device auto = Device.resolve("auto", common.threads(), common.gpu(), msg -> {});
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("cleave", Versions.cleave());
        report.put("platform", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores");
        report.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + " ("
                + System.getProperty("java.home") + ")");
        report.put("javacpp_cache", NativeLibraries.cacheDir());
        try {
            report.put("cpu_library", NativeLibraries.loadCpu());
            report.put("cpu_build", CpuKernels.cleave_build_info().getString());
            report.put("openblas_library", NativeLibraries.openBlasPath());
        } catch (Throwable e) {
            report.put("cpu_library", "FAILED to load: " + e);
        }
        CudaProbe cuda = CudaProbe.probe(common.gpu());
        report.put("cuda_library", cuda.library() + (cuda.real() ? " (real, built with CUDA "
                + CudaProbe.version(cuda.runtimeVersion()) + ", static cudart)" : " (stub: built without nvcc)"));
        report.put("cuda_driver", cuda.driverVersion() > 0 ? "supports CUDA " + CudaProbe.version(cuda.driverVersion()) : "none found");
        report.put("cuda_visible", System.getenv("CUDA_VISIBLE_DEVICES") == null ? "all GPUs (CUDA_VISIBLE_DEVICES is not set)"
                : "CUDA_VISIBLE_DEVICES=" + System.getenv("CUDA_VISIBLE_DEVICES"));
        report.put("cuda_devices", cuda.devices().stream().map(CudaProbe.Device::toString).toList());
        CudaProbe.Device chosen = cuda.chosen();
        report.put("cuda_device", chosen == null ? null : chosen.index() + " (" + chosen.name() + ")");
        if (chosen != null && chosen.slowFp64()) {
            report.put("cuda_warning", chosen.name() + " runs FP64 at 1/" + chosen.fp64Ratio()
                    + " of its FP32 rate: the spectral engine (cluster, cocluster and the spectral regulariser on cuda) "
                    + "is all double and will be slow on it; training in float is not affected");
        }
        report.put("cuda_problem", cuda.problem());
        report.put("auto_picks", auto.choice().replaceFirst("^auto: chose ", ""));
        if (common.json) {
            out.println(Json.write(report));
        } else {
            for (Map.Entry<String, Object> e : report.entrySet()) {
                Object v = e.getValue();
                if (v instanceof java.util.List<?> list) {
                    v = list.isEmpty() ? "none" : list.toString();
                }
                out.printf("%-17s %s%n", e.getKey(), v == null ? "-" : v);
            }
        }
        out.flush();
        return 0;
    }

}
