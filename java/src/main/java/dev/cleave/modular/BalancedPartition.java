package dev.cleave.modular;

import dev.cleave.util.InvalidInputException;
import java.util.Arrays;

/**
 * The balanced contiguous partition of {@code n} indices (the rows or the columns of a layer)
 * into {@code k} clusters: cluster {@code c} is the block {@code [start(n, k, c), start(n, k,
 * c + 1))}, the first {@code n % k} blocks hold {@code ceil(n / k)} indices and the others
 * {@code floor(n / k)}. Every index is covered and sizes differ by at most one; for example
 * the 10 logits with {@code k = 4} get blocks of 3, 3, 2 and 2.
 *
 * <p>When {@code k > n} the first {@code n} clusters hold one index each and the last
 * {@code k - n} are empty. This keeps every layer of a network valid under one {@code k}; an
 * empty cluster simply contributes nothing to the enmeshment loss.
 */
public final class BalancedPartition {
    private BalancedPartition() {}

    /** The cluster of each index 0..n-1: non-decreasing labels in [0, k). */
    public static int[] labels(int n, int k) {
        validate(n, k);
        int[] labels = new int[n];
        for (int c = 0; c < k; c++) {
            Arrays.fill(labels, start(n, k, c), start(n, k, c + 1), c);
        }
        return labels;
    }

    /** The first index of cluster {@code c} in [0, k]; {@code start(n, k, k) == n}. */
    public static int start(int n, int k, int c) {
        validate(n, k);
        if (c < 0 || c > k) {
            throw new InvalidInputException("cluster index must be in [0, " + k + "], got " + c);
        }
        return c * (n / k) + Math.min(c, n % k);
    }

    private static void validate(int n, int k) {
        if (n < 0) {
            throw new InvalidInputException("the number of indices to partition must be >= 0, got " + n);
        }
        if (k < 1) {
            throw new InvalidInputException("the number of clusters k must be >= 1, got " + k);
        }
    }
}
