package dev.cleave.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Mutations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded random mutations of good IDX files, plain and gzipped: each read is a data set or an InvalidInputException. */
class IdxFuzzTest {
    static final int INPUTS = 2000;

    @TempDir
    Path tmp;

    @Test
    void mutatedFilesAreReadOrRejectedCleanly() throws IOException {
        byte[][] images = new byte[2][];
        byte[][] labels = new byte[2][];
        for (int gz = 0; gz < 2; gz++) {
            Path im = tmp.resolve("images" + gz);
            Path lb = tmp.resolve("labels" + gz);
            Idx.writeImages(im, Fixtures.images(1, 12, 4, 3), gz == 1);
            Idx.writeLabels(lb, Fixtures.labels(2, 12, 10), gz == 1);
            images[gz] = Files.readAllBytes(im);
            labels[gz] = Files.readAllBytes(lb);
        }
        Path im = tmp.resolve("mutated-images");
        Path lb = tmp.resolve("mutated-labels");
        Mutations mutations = new Mutations(7);
        int[] counts = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int i = 0; i < INPUTS; i++) {
                int gz = i % 2;
                boolean mutateImages = (i / 2) % 2 == 0;
                Files.write(im, mutateImages ? mutations.mutate(images[gz]) : images[gz]);
                Files.write(lb, mutateImages ? labels[gz] : mutations.mutate(labels[gz]));
                boolean ok = Mutations.acceptsOrRejectsCleanly("IDX input " + i, () -> Idx.readPair(im, lb, "fuzz", 10));
                counts[ok ? 0 : 1]++;
            }
        });
        assertEquals(INPUTS, counts[0] + counts[1]);
        assertTrue(counts[0] > 0 && counts[1] > 0, counts[0] + " accepted, " + counts[1] + " rejected");
    }
}
