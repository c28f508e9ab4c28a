package dev.cleave.train;

/** Training produced a non-finite loss or logit; the message says where and what to change. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message, Throwable cause) {
        super(message, cause);
    }
}
