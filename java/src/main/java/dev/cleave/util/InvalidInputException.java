package dev.cleave.util;

/**
 * Bad input from a user: a malformed file, an out-of-range option, data that does not fit
 * the model. The message says what is wrong and how to fix it, and names the file or
 * option. The CLI prints it without a stack trace and exits with status 2.
 */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
