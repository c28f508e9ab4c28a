package dev.cleave.nn;

import dev.cleave.util.InvalidInputException;
import java.util.function.Consumer;

/** Creates a {@link Backend} from its name: {@code java}, {@code cpu}, {@code cuda} or {@code auto}. */
public final class Backends {
    public static final String NAMES = "java, cpu, cuda, auto";

    private Backends() {}

    /**
     * The backend called {@code name} with {@code threads} threads. {@code auto} picks cuda when
     * it is usable and cpu otherwise, and says what it chose (and why) through {@code log}.
     * Asking for {@code cuda} where it cannot run is an error that says why; never a quiet
     * fall back to the CPU.
     */
    public static Backend create(String name, int threads, Consumer<String> log) {
        if (threads < 1) {
            throw new InvalidInputException("--threads must be >= 1, got " + threads);
        }
        switch (name) {
            case "java":
                return new JavaBackend();
            case "cpu":
                return new CpuBackend(threads);
            case "cuda":
                throw new InvalidInputException("--backend cuda cannot run here: " + cudaUnavailableReason(CudaProbe.probe())
                        + ". Use --backend cpu, or run 'cleave doctor' for details.");
            case "auto": {
                String reason = cudaUnavailableReason(CudaProbe.probe());
                log.accept("backend auto: chose cpu (cuda not used: " + reason + ")");
                return new CpuBackend(threads);
            }
            default:
                throw new InvalidInputException("--backend " + name + " is not a backend: choose one of " + NAMES);
        }
    }

    /** Why training cannot use CUDA here. */
    static String cudaUnavailableReason(CudaProbe probe) {
        if (probe.problem() != null) {
            return probe.problem();
        }
        return "a GPU was found (" + probe.devices().get(0).name() + ") but this version of Cleave has no CUDA "
                + "training kernels yet (they arrive with the CUDA backend)";
    }
}
