package dev.cleave.nativ;

/**
 * A native op met non-finite numbers in well-formed input (status
 * {@link NativeStatus#NUMERIC_FAILURE}): a non-finite logit or sum of squared weights, i.e. the
 * network diverged. An {@link ArithmeticException}, as the Java reference kernels throw for the
 * same case, so the trainer reports it as a divergence (CLI exit 3).
 */
public final class NativeNumericException extends ArithmeticException implements NativeFailure {
    private final NativeError error;

    NativeNumericException(NativeError error) {
        super(error.message());
        this.error = error;
    }

    @Override
    public NativeError error() {
        return error;
    }
}
