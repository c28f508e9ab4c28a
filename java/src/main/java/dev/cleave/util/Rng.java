package dev.cleave.util;

import java.util.SplittableRandom;

/**
 * One seed drives everything. {@link #stream(long, String)} derives an independent,
 * reproducible random stream per purpose ("init", "batches", "kmeans", "shuffle/3", ...), so
 * adding a new consumer never changes the numbers another consumer sees.
 * {@link #uniform(long, long, long)} is the counter-based uniform that every backend
 * (Java, C++, CUDA) uses for dropout masks, so masks agree bit for bit.
 */
public final class Rng {
    private Rng() {}

    /** An independent stream for {@code purpose}, derived from the run's seed. */
    public static SplittableRandom stream(long seed, String purpose) {
        return new SplittableRandom(subSeed(seed, purpose));
    }

    /** The 64-bit seed of the stream for {@code purpose}. */
    public static long subSeed(long seed, String purpose) {
        long h = mix(seed ^ 0x632BE59BD9B4E019L);
        for (int i = 0; i < purpose.length(); i++) {
            h = mix(h ^ purpose.charAt(i));
        }
        return h;
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Uniform in [0, 1) with 24 random bits from (seed, stream, index); the same function as
     * {@code uniform} in native/src/elementwise.cpp.
     */
    public static float uniform(long seed, long stream, long index) {
        long z = seed ^ (stream * 0x9E3779B97F4A7C15L);
        z += (index + 1) * 0xBF58476D1CE4E5B9L;
        z = mix(z);
        return (float) (z >>> 40) * (1.0f / 16777216.0f);
    }
}
