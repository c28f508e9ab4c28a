package dev.cleave.util;

/**
 * The one progress and cancellation mechanism for long work (training epochs, shuffle tests,
 * circuit searches). Work calls {@link #progress} as it goes; a listener that wants the work
 * to stop throws {@link CancelledException} from it. The CLI turns these calls into a
 * progress bar, or into JSON lines with --json.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (task, done, total) -> {};

    /** {@code done} of {@code total} units of {@code task} are finished. May be called from any thread. */
    void progress(String task, long done, long total);

    /** Thrown by a listener (or by work that saw an interrupt) to stop the work early. */
    final class CancelledException extends RuntimeException {
        public CancelledException(String message) {
            super(message);
        }
    }
}
