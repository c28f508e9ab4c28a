package dev.cleave.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetTest {

    /**
     * {@code perClass[c]} images of class c, grouped by class; image i is 1 x 2 pixels that
     * encode i, so every image is recognisable after a split.
     */
    private static Dataset byClass(int... perClass) {
        int n = Arrays.stream(perClass).sum();
        float[] images = new float[2 * n];
        int[] labels = new int[n];
        int i = 0;
        for (int c = 0; c < perClass.length; c++) {
            for (int k = 0; k < perClass[c]; k++, i++) {
                images[2 * i] = (i % 256) / 255f;
                images[2 * i + 1] = (i / 256) / 255f;
                labels[i] = c;
            }
        }
        return new Dataset("toy", 1, 2, perClass.length, images, labels);
    }

    private static int id(Dataset d, int i) {
        return Math.round(d.images()[2 * i] * 255) + 256 * Math.round(d.images()[2 * i + 1] * 255);
    }

    @Test
    void constructorRejectsInconsistentData() {
        assertInvalid(() -> new Dataset("d", 2, 2, 3, new float[7], new int[2]), "dataset d", "2 labels need 2 x 4 = 8",
                "got 7");
        assertInvalid(() -> new Dataset("d", 1, 1, 3, new float[2], new int[] {0, 3}), "label 3 of image 1", "[0, 3)");
        assertInvalid(() -> new Dataset("d", 1, 1, 3, new float[2], new int[] {-1, 0}), "label -1 of image 0");
        assertInvalid(() -> new Dataset("d", 1, 2, 3, new float[] {0, 0, 0.5f, Float.NaN}, new int[2]),
                "pixel 1 of image 1 is NaN", "outside [0, 1]");
        assertInvalid(() -> new Dataset("d", 1, 1, 3, new float[] {1.5f}, new int[1]), "outside [0, 1]");
        assertInvalid(() -> new Dataset("d", 0, 2, 3, new float[0], new int[0]), "image shape must be positive");
        assertInvalid(() -> new Dataset("d", 1, 1, 0, new float[0], new int[0]), "at least one class");
    }

    @Test
    void countsFeaturesSubsetAndClassCounts() {
        Dataset d = byClass(3, 1, 2);
        assertEquals(6, d.count());
        assertEquals(2, d.features());
        assertArrayEquals(new int[] {3, 1, 2}, d.classCounts());
        Dataset s = d.subset(new int[] {5, 0, 5});
        assertArrayEquals(new int[] {2, 0, 2}, s.labels());
        assertEquals(5, id(s, 0));
        assertEquals(0, id(s, 1));
        assertArrayEquals(new int[] {1, 0, 2}, s.classCounts());
        assertThrows(IllegalArgumentException.class, () -> d.subset(new int[] {6}));
    }

    @Test
    void stratifiedSplitGivesEachClassItsRoundedShare() {
        Dataset d = byClass(70, 21, 9, 13, 0);
        DatasetSplit split = d.stratifiedSplit(42, 1.0 / 7);
        // round(70/7) = 10, round(21/7) = 3, round(9/7) = round(1.29) = 1, round(13/7) = round(1.86) = 2, round(0) = 0
        assertArrayEquals(new int[] {10, 3, 1, 2, 0}, split.test().classCounts());
        assertArrayEquals(new int[] {60, 18, 8, 11, 0}, split.train().classCounts());
        assertEquals("toy", split.train().name());
    }

    @Test
    void stratifiedSplitIsDisjointCoversEverythingAndKeepsLabelsWithImages() {
        Dataset d = byClass(100, 37, 63);
        DatasetSplit split = d.stratifiedSplit(1, 0.3);
        Set<Integer> seen = new HashSet<>();
        for (Dataset part : new Dataset[] {split.train(), split.test()}) {
            for (int i = 0; i < part.count(); i++) {
                int id = id(part, i);
                assertTrue(seen.add(id), "image " + id + " appears twice");
                assertEquals(d.labels()[id], part.labels()[i], "label travels with its image");
            }
        }
        assertEquals(d.count(), seen.size());
    }

    @Test
    void stratifiedSplitIsDeterministicPerSeedAndShuffled() {
        Dataset d = byClass(50, 50, 50);
        DatasetSplit a = d.stratifiedSplit(9, 0.2);
        DatasetSplit b = d.stratifiedSplit(9, 0.2);
        DatasetSplit c = d.stratifiedSplit(10, 0.2);
        assertEquals(a, b);
        assertNotEquals(a.test(), c.test());
        int[] labels = a.test().labels();
        int[] sorted = labels.clone();
        Arrays.sort(sorted);
        assertNotEquals(Arrays.toString(sorted), Arrays.toString(labels), "the test set is not grouped by class");
    }

    @Test
    void stratifiedSplitHandlesTheExtremesAndRejectsBadFractions() {
        Dataset d = byClass(4, 6);
        assertEquals(0, d.stratifiedSplit(1, 0).test().count());
        assertEquals(10, d.stratifiedSplit(1, 0).train().count());
        assertEquals(0, d.stratifiedSplit(1, 1).train().count());
        assertThrows(IllegalArgumentException.class, () -> d.stratifiedSplit(1, 1.5));
        assertThrows(IllegalArgumentException.class, () -> d.stratifiedSplit(1, Double.NaN));
    }

    @Test
    void splitRequiresMatchingShapes() {
        Dataset a = byClass(2, 2);
        Dataset b = new Dataset("toy", 2, 1, 2, new float[4], new int[2]);
        assertInvalid(() -> new DatasetSplit(a, b), "same image shape");
    }
}
