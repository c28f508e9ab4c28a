package dev.cleave.nativ;

/**
 * Implemented by every exception a failed native call becomes ({@link NativeArgumentException},
 * {@link NativeNumericException}, {@link NativeNotConvergedException}, {@link NativeException}),
 * so a caller can read the status, op, file and line whichever Java type the status maps to.
 */
public interface NativeFailure {
    /** What the native call reported. */
    NativeError error();

    default NativeStatus status() {
        return error().status();
    }

    /** The op that failed ("softmax_xent"). */
    default String op() {
        return error().op();
    }

    /** The native source file that reported it ("native/src/softmax_xent.cpp"). */
    default String file() {
        return error().file();
    }

    default int line() {
        return error().line();
    }
}
