package dev.cleave.cli;

import dev.cleave.util.ProgressListener;
import java.io.PrintWriter;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Turns {@link ProgressListener} calls into a progress bar per task on a terminal; prints
 * nothing when output is JSON or not a terminal (the per-epoch lines are the record then).
 */
final class Progress implements ProgressListener, AutoCloseable {
    private final boolean enabled;
    private ProgressBar bar;
    private String task;

    private Progress(boolean enabled) {
        this.enabled = enabled;
    }

    static Progress start(boolean json, PrintWriter err) {
        return new Progress(!json && System.console() != null);
    }

    @Override
    public synchronized void progress(String name, long done, long total) {
        if (!enabled) {
            return;
        }
        if (bar == null || !name.equals(task)) {
            finishTask();
            task = name;
            bar = new ProgressBarBuilder().setTaskName(name).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setUpdateIntervalMillis(200).continuousUpdate().build();
        }
        bar.stepTo(done);
    }

    /** Closes the current bar (so the next output starts on a clean line). */
    synchronized void finishTask() {
        if (bar != null) {
            bar.close();
            bar = null;
            task = null;
        }
    }

    @Override
    public void close() {
        finishTask();
    }
}
