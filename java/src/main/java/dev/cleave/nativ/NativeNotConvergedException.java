package dev.cleave.nativ;

/**
 * A native iterative method stopped before it met its tolerance (status
 * {@link NativeStatus#NOT_CONVERGED}). The CLI prints the message and exits with status 4, as for
 * the Java eigensolver's {@code EigenNotConvergedException}.
 */
public final class NativeNotConvergedException extends RuntimeException implements NativeFailure {
    private final NativeError error;

    NativeNotConvergedException(NativeError error) {
        super(error.message());
        this.error = error;
    }

    @Override
    public NativeError error() {
        return error;
    }
}
