package dev.cleave.cluster;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.nativ.CudaApi;
import dev.cleave.util.InvalidInputException;
import java.util.Locale;

/**
 * Where the spectral engine runs. {@link #NATIVE} is the C++ engine (libcleave_cpu: OpenMP
 * kernels, LAPACK); {@link #JAVA} is the plain-Java reference implementation of the same
 * algorithms, in double precision, that the tests check the native engine against.
 * {@link #CUDA} keeps the operator's weights and every n-row block on the GPU (libcleave_cuda:
 * cuda/src/spectral.cu) and runs the same Java driver as the reference with only p x p
 * matrices on the host; {@link #CUDA_EMU} is the same over the CPU emulation of those kernels
 * (libcleave_cuda_emu: slow, for tests on machines without a GPU). All give the same answers to
 * within the eigensolver's tolerance. {@link #CUDA} on a machine without a usable GPU is an
 * error that says why, never a quiet fall back.
 */
public enum Backend {
    @JsonProperty("native") NATIVE,
    @JsonProperty("java") JAVA,
    @JsonProperty("cuda") CUDA,
    @JsonProperty("cuda-emu") CUDA_EMU;

    /** Parses "native", "java", "cuda" or "cuda-emu" (any case), with an error naming the valid values. */
    public static Backend parse(String s) {
        return Enums.parse(Backend.class, s, "backend");
    }

    /**
     * The spectral engine that goes with a compute backend of {@code dev.cleave.nn} (by its
     * resolved name: cpu, java, cuda, cuda-emu), so training and the demo cluster where they
     * train: cpu trains on the native kernels and clusters on the native engine, cuda on the GPU.
     */
    public static Backend forCompute(String computeBackend) {
        return switch (computeBackend) {
            case "cpu" -> NATIVE;
            case "java" -> JAVA;
            case "cuda" -> CUDA;
            case "cuda-emu" -> CUDA_EMU;
            default -> throw new InvalidInputException("no spectral engine goes with compute backend '" + computeBackend
                    + "': expected cpu, java, cuda or cuda-emu");
        };
    }

    /** Whether this backend runs on the CUDA kernels (the GPU or their emulation). */
    public boolean isCuda() {
        return this == CUDA || this == CUDA_EMU;
    }

    /** The CUDA library of a CUDA backend: the real one or the emulation. */
    CudaApi cudaApi() {
        if (!isCuda()) {
            throw new IllegalStateException(this + " is not a CUDA backend");
        }
        return this == CUDA ? CudaApi.device() : CudaApi.emulator();
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
