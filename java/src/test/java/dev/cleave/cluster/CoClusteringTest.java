package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Json;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Bipartite spectral co-clustering (Dhillon 2001) on planted block-diagonal matrices. */
class CoClusteringTest {
    /** 4 blocks (rows 15 each, columns 20 each), strong inside, 1% noise outside, rows and columns permuted. */
    static FloatMatrix planted(int[] rowBlock, int[] colBlock, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int rows = rowBlock.length;
        int cols = colBlock.length;
        int[] rp = perm(rows, r);
        int[] cp = perm(cols, r);
        float[] d = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            rowBlock[rp[i]] = i / (rows / 4);
        }
        for (int j = 0; j < cols; j++) {
            colBlock[cp[j]] = j / (cols / 4);
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double mag = rowBlock[i] == colBlock[j] ? 0.5 + 0.5 * r.nextDouble() : 0.01 * r.nextDouble();
                d[i * cols + j] = (float) (r.nextBoolean() ? mag : -mag);
            }
        }
        return new FloatMatrix(rows, cols, d);
    }

    static int[] perm(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Test
    void jointVariantRecoversPlantedBlocksWithRowsAndColumnsPaired() {
        int[] rb = new int[60];
        int[] cb = new int[80];
        FloatMatrix w = planted(rb, cb, 5);
        for (Device b : new Device[] {Device.cpu(), Device.java(), Device.cudaEmu()}) {
            CoClusterResult r = CoClustering.cocluster(w, CoClusterOptions.defaults().withSeed(3).withBackend(b));
            int[] blockLabel = {-1, -1, -1, -1};
            for (int i = 0; i < 60; i++) {
                if (blockLabel[rb[i]] < 0) {
                    blockLabel[rb[i]] = r.rowLabels()[i];
                }
                assertEquals(blockLabel[rb[i]], r.rowLabels()[i], "row " + i);
            }
            for (int j = 0; j < 80; j++) {
                assertEquals(blockLabel[cb[j]], r.columnLabels()[j], "column " + j + " pairs with its block's rows");
            }
            assertEquals(4, java.util.Arrays.stream(blockLabel).distinct().count());
            assertEquals(0, r.rowLabels()[0], "canonical: row 0 is in co-cluster 0");
            assertEquals(3, r.singularValues().length); // l = ceil(log2 4) = 2 vectors after the trivial one
            assertEquals(1.0, r.singularValues()[0], 1e-9);
        }
    }

    @Test
    void separateVariantRecoversBothPartitions() {
        int[] rb = new int[60];
        int[] cb = new int[80];
        FloatMatrix w = planted(rb, cb, 6);
        CoClusterResult r = CoClustering.cocluster(w, CoClusterOptions.defaults().withVariant(CoClusterVariant.SEPARATE));
        assertArrayEquals(SpectralClusteringTest.KMeansTestLabels.canonical(rb), r.rowLabels());
        assertArrayEquals(SpectralClusteringTest.KMeansTestLabels.canonical(cb), r.columnLabels());
    }

    @Test
    void zeroRowsAndColumnsAreStillCovered() {
        int[] rb = new int[60];
        int[] cb = new int[80];
        FloatMatrix w = planted(rb, cb, 7);
        float[] d = w.data().clone();
        for (int j = 0; j < 80; j++) {
            d[5 * 80 + j] = 0f;
            d[9 * 80 + j] = 0f;
            d[10 * 80 + j] = 0f;
        }
        for (int i = 0; i < 60; i++) {
            d[i * 80 + 2] = 0f;
        }
        CoClusterResult r = CoClustering.cocluster(new FloatMatrix(60, 80, d), CoClusterOptions.defaults());
        assertArrayEquals(new int[] {5, 9, 10}, r.zeroRows());
        assertArrayEquals(new int[] {2}, r.zeroColumns());
        assertEquals(0, r.rowLabels()[5]);
        assertEquals(1, r.rowLabels()[9]);
        assertEquals(2, r.rowLabels()[10]);
        for (int l : r.rowLabels()) {
            assertTrue(l >= 0 && l < 4);
        }
        String json = Json.write(r);
        assertTrue(json.contains("\"row_labels\"") && json.contains("\"column_labels\""), json);
    }

    @Test
    void edgeCases() {
        FloatMatrix w = new FloatMatrix(2, 3, new float[] {1, 2, 0, 0, 3, 4});
        CoClusterResult one = CoClustering.cocluster(w, CoClusterOptions.defaults().withK(1));
        assertArrayEquals(new int[] {0, 0}, one.rowLabels());
        assertArrayEquals(new int[] {0, 0, 0}, one.columnLabels());
        assertThrows(InvalidInputException.class, () -> CoClustering.cocluster(w, CoClusterOptions.defaults().withK(6)));
        assertThrows(InvalidInputException.class, () -> CoClustering.cocluster(w,
                CoClusterOptions.defaults().withK(3).withVariant(CoClusterVariant.SEPARATE)));
        assertThrows(InvalidInputException.class, () -> CoClustering.cocluster(FloatMatrix.zeros(3, 3), CoClusterOptions.defaults()));
        assertEquals(2, CoClusterOptions.defaults().vectors());
        assertEquals(3, CoClusterOptions.defaults().withK(5).vectors());
        assertEquals(1, CoClusterOptions.defaults().withK(2).vectors());
    }
}
