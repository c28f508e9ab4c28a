package dev.cleave.nativ;

import dev.cleave.util.InvalidInputException;

/**
 * A native op rejected an argument or the data it points to (status
 * {@link NativeStatus#INVALID_ARGUMENT}): a label outside [0, classes), a size out of range, a
 * negative graph weight. An {@link InvalidInputException}, so the CLI prints the message (op,
 * what was wrong, native file and line) and exits with status 2.
 */
public final class NativeArgumentException extends InvalidInputException implements NativeFailure {
    private final NativeError error;

    NativeArgumentException(NativeError error) {
        super(error.message());
        this.error = error;
    }

    @Override
    public NativeError error() {
        return error;
    }
}
