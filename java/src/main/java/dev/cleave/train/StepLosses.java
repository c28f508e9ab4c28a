package dev.cleave.train;

import dev.cleave.nn.Backend;
import dev.cleave.nn.XentLog;

/**
 * The training loss of each step, left by {@link Backend#softmaxXentRecord} in a log in the
 * backend's memory and read back every {@link #EVERY} steps and at the end of each epoch (on
 * cuda: one copy then, none per step). Reading adds the losses to the epoch's sum in step order,
 * as adding each step's softmax_xent result did, and reports the first step with a bad row.
 */
final class StepLosses implements AutoCloseable {
    /** Steps between reads of the log. */
    static final int EVERY = 32;

    private final XentLog log;
    private final long[] steps = new long[EVERY];
    private int used;

    StepLosses(Backend backend) {
        this.log = backend.xentLog(EVERY);
    }

    XentLog log() {
        return log;
    }

    /** The slot step {@code step} writes its record into. */
    int slot(long step) {
        steps[used] = step;
        return used++;
    }

    /** Forgets records not yet read (those of an epoch that ended by an exception). */
    void discard() {
        used = 0;
    }

    boolean full() {
        return used == EVERY;
    }

    /**
     * Adds the losses recorded since the last read to {@code lossSum}, in step order, and returns
     * the sum. A label outside the classes is bad input (as from softmax_xent); a non-finite logit
     * is a {@link TrainingDivergedException} naming its epoch and step.
     */
    double read(double lossSum, int epoch, int classes, float lr) {
        XentLog.Record[] records = log.read(used);
        used = 0;
        for (int i = 0; i < records.length; i++) {
            try {
                records[i].check(classes);
            } catch (ArithmeticException e) {
                throw new TrainingDivergedException("training diverged in epoch " + epoch + " at step " + steps[i]
                        + ": " + e.getMessage() + ". The checkpoint of the last finished epoch is kept; lower --lr (now "
                        + lr + ") and train again.", e);
            }
            lossSum += records[i].lossSum();
        }
        return lossSum;
    }

    @Override
    public void close() {
        log.close();
    }
}
