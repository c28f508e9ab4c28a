package dev.cleave.nativ;

/**
 * A native call failed for a reason that is not the caller's input: host memory ran out, a
 * library call failed, or the CUDA runtime or driver failed (status {@link NativeStatus#INTERNAL_ERROR}
 * or {@link NativeStatus#DEVICE_ERROR}). The message names the op, the native source file and line,
 * and what was wrong; the JVM is never brought down. The CLI prints it and exits with status 1.
 * Bad arguments, non-finite numbers and non-convergence have their own types (see {@link NativeStatus}).
 */
public class NativeException extends RuntimeException implements NativeFailure {
    private final NativeError error;

    NativeException(NativeError error) {
        super(error.message());
        this.error = error;
    }

    @Override
    public NativeError error() {
        return error;
    }
}
