package dev.cleave.nn;

import dev.cleave.nativ.CudaApi;
import dev.cleave.util.InvalidInputException;
import java.util.function.Consumer;

/** Creates a {@link Backend} from its name: {@code java}, {@code cpu}, {@code cuda} or {@code auto}. */
public final class Backends {
    public static final String NAMES = "java, cpu, cuda, auto (and cuda-emu: the CUDA kernels emulated on the CPU, for testing)";

    private Backends() {}

    /**
     * The backend called {@code name} with {@code threads} threads. {@code auto} picks cuda when
     * it is usable and cpu otherwise, and says what it chose (and why) through {@code log}.
     * Asking for {@code cuda} where it cannot run is an error that says why; never a quiet
     * fall back to the CPU.
     */
    public static Backend create(String name, int threads, Consumer<String> log) {
        return create(name, threads, CudaProbe.NONE, log);
    }

    /**
     * As {@link #create(String, int, Consumer)}, with the GPU {@code device} (an index among the
     * visible devices; {@link CudaProbe#NONE}: the first usable one) for cuda and auto.
     */
    public static Backend create(String name, int threads, int device, Consumer<String> log) {
        if (threads < 1) {
            throw new InvalidInputException("--threads must be >= 1, got " + threads);
        }
        switch (name) {
            case "java":
                return new JavaBackend();
            case "cpu":
                return new CpuBackend(threads);
            case "cuda": {
                CudaProbe probe = CudaProbe.probe(device);
                if (probe.problem() != null) {
                    throw new InvalidInputException("--backend cuda cannot run here: " + probe.problem()
                            + ". Use --backend cpu, or run 'cleave doctor' for details.");
                }
                return new CudaBackend(CudaApi.device(), probe.device());
            }
            case "cuda-emu":
                return new CudaBackend(CudaApi.emulator());
            case "auto": {
                CudaProbe probe = CudaProbe.probe(device);
                if (probe.problem() == null) {
                    log.accept("backend auto: chose cuda (GPU " + probe.device() + ": " + probe.chosen().name() + ")");
                    return new CudaBackend(CudaApi.device(), probe.device());
                }
                log.accept("backend auto: chose cpu (cuda not usable: " + probe.problem() + ")");
                return new CpuBackend(threads);
            }
            default:
                throw new InvalidInputException("--backend " + name + " is not a backend: choose one of " + NAMES);
        }
    }

}
