package dev.cleave.cluster;

/** The one rule for option records' {@code threads}: 0 means every available processor. */
final class Threads {
    private Threads() {}

    static int resolve(int threads) {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
}
