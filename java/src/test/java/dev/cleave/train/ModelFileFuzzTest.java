package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Json;
import dev.cleave.io.Mutations;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Mlp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random mutations of a good model file and of a good 'clusters' metadata value: each is
 * read as a model (with its clusters) or rejected with an InvalidInputException.
 */
class ModelFileFuzzTest {
    static final int MODEL_INPUTS = 1500;
    static final int CLUSTER_INPUTS = 3000;

    @TempDir
    Path tmp;

    private static String clustersJson() {
        return Json.write(List.of(new LayerClusters(0, 2, new int[] {0, 1, 1, 0, 1, 0}, new int[] {1, 0, 0, 1, 0, 1, 1, 0}),
                new LayerClusters(1, 3, new int[] {2, 1, 0}, new int[] {0, 1, 2, 2, 1, 0})));
    }

    @Test
    void mutatedModelFilesAreReadOrRejectedCleanly() throws IOException {
        Path good = tmp.resolve("good.safetensors");
        try (Mlp m = Mlp.glorotUniform(new int[] {8, 6, 3}, 1)) {
            ModelFile.save(good, m, null, Map.of("epochs_done", "2", RunDir.CLUSTERS_KEY, clustersJson()));
        }
        byte[] bytes = Files.readAllBytes(good);
        Path file = tmp.resolve("mutated.safetensors");
        Mutations mutations = new Mutations(14);
        int[] counts = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int i = 0; i < MODEL_INPUTS; i++) {
                Files.write(file, mutations.mutate(bytes));
                boolean ok = Mutations.acceptsOrRejectsCleanly("model input " + i, () -> {
                    try (ModelFile.Loaded loaded = ModelFile.load(file)) {
                        loaded.clusters();
                    }
                });
                counts[ok ? 0 : 1]++;
            }
        });
        assertEquals(MODEL_INPUTS, counts[0] + counts[1]);
        assertTrue(counts[0] > 0 && counts[1] > 0, counts[0] + " accepted, " + counts[1] + " rejected");
    }

    @Test
    void mutatedClusterMetadataIsReadOrRejectedCleanly() {
        String good = clustersJson();
        Mutations mutations = new Mutations(15);
        int[] counts = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < CLUSTER_INPUTS; i++) {
                String json = mutations.mutate(good);
                boolean ok = Mutations.acceptsOrRejectsCleanly("cluster metadata input " + i + " " + json,
                        () -> RunDir.clustersOf(Map.of(RunDir.CLUSTERS_KEY, json)));
                counts[ok ? 0 : 1]++;
            }
        });
        assertEquals(CLUSTER_INPUTS, counts[0] + counts[1]);
        assertTrue(counts[0] > 0 && counts[1] > 0, counts[0] + " accepted, " + counts[1] + " rejected");
    }
}
