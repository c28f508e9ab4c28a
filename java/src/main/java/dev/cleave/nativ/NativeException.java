package dev.cleave.nativ;

/**
 * A native kernel reported failure. The message names the op, the native source file and
 * line, and what was wrong; the JVM is never brought down by bad input.
 */
public final class NativeException extends RuntimeException {
    public NativeException(String message) {
        super(message);
    }
}
