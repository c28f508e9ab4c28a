package dev.cleave.nativ;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a failed native call reported: its status, the op, the native source file and line, and the
 * message. Both libraries write their last error as "op: what was wrong (file:line)"
 * (native/src/library.cpp, cuda/src/runtime.cu); {@link #parse} reads the op, file and line back.
 *
 * @param status the status the call returned
 * @param code the raw code (a CUDA runtime error code for the device queries, else status.code())
 * @param op the op named in the message ("linear_forward"), or "" when the message names none
 * @param file the source file ("native/src/linear.cpp"), or "" when the message names none
 * @param line the source line, or 0
 * @param message the whole message, as the library wrote it
 */
public record NativeError(NativeStatus status, int code, String op, String file, int line, String message) {
    private static final Pattern FORMAT = Pattern.compile("^([A-Za-z0-9_]+): .*\\(([^()\\s:]+):(\\d+)\\)\\s*$",
            Pattern.DOTALL);

    /** Parses the op, file and line out of a library's last-error message. */
    public static NativeError parse(NativeStatus status, int code, String message) {
        String m = message == null || message.isEmpty() ? "native call failed with status " + code + " and no message"
                : message;
        Matcher x = FORMAT.matcher(m);
        if (x.matches()) {
            return new NativeError(status, code, x.group(1), x.group(2), Integer.parseInt(x.group(3)), m);
        }
        int colon = m.indexOf(": ");
        String op = colon > 0 && m.substring(0, colon).matches("[A-Za-z0-9_]+") ? m.substring(0, colon) : "";
        return new NativeError(status, code, op, "", 0, m);
    }
}
