package dev.cleave.nativ;

/**
 * The status codes of the C ABI, as native/include/cleave_status.h declares them (NativeStatusTest
 * reads the header and fails when the two lists differ), and the typed exception each becomes.
 */
public enum NativeStatus {
    /** Success. */
    OK(0),
    /** A bad argument or bad input data: {@link NativeArgumentException}, CLI exit 2. */
    INVALID_ARGUMENT(-1),
    /** Non-finite numbers from well-formed input (a diverged network): {@link NativeNumericException}, exit 3. */
    NUMERIC_FAILURE(-2),
    /** An iterative method stopped short of its tolerance: {@link NativeNotConvergedException}, exit 4. */
    NOT_CONVERGED(-3),
    /** Host memory ran out or a library call failed: {@link NativeException}, exit 1. */
    INTERNAL_ERROR(-4),
    /** The CUDA runtime or driver failed, or the library is the stub: {@link NativeException}, exit 1. */
    DEVICE_ERROR(-5);

    private final int code;

    NativeStatus(int code) {
        this.code = code;
    }

    /** The value in cleave_status.h. */
    public int code() {
        return code;
    }

    /**
     * The status for a code a native function returned. A positive code is the CUDA runtime's own
     * error code (cudaError_t), which the CUDA library returns as it is: {@link #DEVICE_ERROR}. A
     * negative code outside the list (a library newer than this class) is {@link #INTERNAL_ERROR}.
     */
    public static NativeStatus of(int code) {
        for (NativeStatus s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return code > 0 ? DEVICE_ERROR : INTERNAL_ERROR;
    }

    /**
     * The typed exception for a failed call: {@code code} is what the function returned (nonzero),
     * {@code message} the library's last error ("op: what was wrong (file:line)").
     */
    public static RuntimeException exception(int code, String message) {
        NativeError error = NativeError.parse(of(code), code, message);
        return switch (error.status()) {
            case INVALID_ARGUMENT -> new NativeArgumentException(error);
            case NUMERIC_FAILURE -> new NativeNumericException(error);
            case NOT_CONVERGED -> new NativeNotConvergedException(error);
            case OK, INTERNAL_ERROR, DEVICE_ERROR -> new NativeException(error);
        };
    }

    /** Throws {@link #exception} when {@code code} is not 0. */
    public static void check(int code, java.util.function.Supplier<String> lastError) {
        if (code != 0) {
            throw exception(code, lastError.get());
        }
    }
}
