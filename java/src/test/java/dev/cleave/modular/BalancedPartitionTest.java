package dev.cleave.modular;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import org.junit.jupiter.api.Test;

class BalancedPartitionTest {
    @Test
    void coversEveryIndexWithContiguousBlocksWhoseSizesDifferByAtMostOne() {
        for (int n = 0; n <= 40; n++) {
            for (int k = 1; k <= 12; k++) {
                int[] labels = BalancedPartition.labels(n, k);
                assertEquals(n, labels.length);
                int[] sizes = new int[k];
                for (int i = 0; i < n; i++) {
                    assertTrue(labels[i] >= 0 && labels[i] < k, "label in range");
                    assertTrue(i == 0 || labels[i] == labels[i - 1] || labels[i] == labels[i - 1] + 1,
                            "contiguous, in order: n=" + n + " k=" + k);
                    sizes[labels[i]]++;
                }
                int min = Integer.MAX_VALUE, max = 0;
                for (int c = 0; c < k; c++) {
                    min = Math.min(min, sizes[c]);
                    max = Math.max(max, sizes[c]);
                    assertEquals(BalancedPartition.start(n, k, c + 1) - BalancedPartition.start(n, k, c), sizes[c]);
                }
                assertTrue(max - min <= 1, "sizes differ by at most one: n=" + n + " k=" + k);
                assertEquals(0, BalancedPartition.start(n, k, 0));
                assertEquals(n, BalancedPartition.start(n, k, k));
            }
        }
    }

    @Test
    void tenLogitsWithFourClustersGetBlocksOfThreeThreeTwoTwo() {
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1, 2, 2, 3, 3}, BalancedPartition.labels(10, 4));
    }

    @Test
    void moreClustersThanIndicesLeavesTheLastClustersEmpty() {
        assertArrayEquals(new int[] {0, 1, 2}, BalancedPartition.labels(3, 5));
        assertEquals(3, BalancedPartition.start(3, 5, 4));
        assertArrayEquals(new int[0], BalancedPartition.labels(0, 2));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(InvalidInputException.class, () -> BalancedPartition.labels(5, 0));
        assertThrows(InvalidInputException.class, () -> BalancedPartition.labels(-1, 2));
        assertThrows(InvalidInputException.class, () -> BalancedPartition.start(5, 2, 3));
    }
}
