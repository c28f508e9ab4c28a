package dev.cleave.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Json;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.ProgressListener.CancelledException;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The shuffle test: its arithmetic by hand, the two null models, determinism, progress, cancel. */
class ShuffleTestTest {
    @Test
    void statisticsMatchAHandComputation() {
        ShuffleOptions o = ShuffleOptions.defaults().withShuffles(4);
        ShuffleResult r = ShuffleResult.of(1.0, new double[] {2, 4, 0.5, 3}, 0.0, null, o);
        // mean 2.375; deviations -0.375, 1.625, -1.875, 0.625; variance 6.6875 / 4 = 1.671875
        assertEquals(2.375, r.mean(), 1e-15);
        assertEquals(Math.sqrt(1.671875), r.sd(), 1e-15);
        assertEquals((1.0 - 2.375) / Math.sqrt(1.671875), r.z(), 1e-15);
        assertEquals(1, r.lower()); // only 0.5 is below 1.0
        assertEquals(2.0 / 5.0, r.p(), 1e-15);
        ShuffleResult best = ShuffleResult.of(0.1, new double[50], 0.0, null, ShuffleOptions.defaults());
        assertEquals(1.0 / 51.0, ShuffleResult.of(0.1, fill(50, 1.0), 0, null, ShuffleOptions.defaults()).p(), 1e-15);
        assertNull(best.z(), "sd = 0: z is undefined, reported as null");
    }

    static double[] fill(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void layerShufflesAllEntriesAndLayerNonzeroKeepsTheSparsityPattern() {
        float[] d = new float[60];
        for (int i = 0; i < d.length; i++) {
            d[i] = i % 3 == 0 ? 0f : i;
        }
        List<FloatMatrix> ws = List.of(new FloatMatrix(6, 10, d.clone()), new FloatMatrix(2, 6, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
        List<FloatMatrix> a = ShuffleTest.shuffle(ws, ShuffleMethod.LAYER, Rng.stream(1, "shuffle/0"));
        List<FloatMatrix> b = ShuffleTest.shuffle(ws, ShuffleMethod.LAYER_NONZERO, Rng.stream(1, "shuffle/0"));
        assertArrayEquals(d, ws.get(0).data(), "inputs not modified");
        for (List<FloatMatrix> s : List.of(a, b)) {
            for (int l = 0; l < 2; l++) {
                float[] x = s.get(l).data().clone();
                float[] y = ws.get(l).data().clone();
                Arrays.sort(x);
                Arrays.sort(y);
                assertArrayEquals(y, x, "a permutation of the same values");
                assertEquals(ws.get(l).rows(), s.get(l).rows());
            }
        }
        boolean zerosMoved = false;
        for (int i = 0; i < d.length; i++) {
            assertEquals(d[i] == 0f, b.get(0).data()[i] == 0f, "layer_nonzero keeps zero positions");
            zerosMoved |= (d[i] == 0f) != (a.get(0).data()[i] == 0f);
        }
        assertTrue(zerosMoved, "layer moves zeros too");
        assertNotEquals(ws.get(0), a.get(0));
        assertEquals(a, ShuffleTest.shuffle(ws, ShuffleMethod.LAYER, Rng.stream(1, "shuffle/0")), "seeded");
    }

    static List<FloatMatrix> tiny() {
        return TestGraphs.glorot(new int[] {40, 30, 30, 10}, 3);
    }

    @Test
    void resultsDoNotDependOnThreadsAndProgressIsReported() {
        ClusterOptions c = ClusterOptions.defaults().withK(4).withSeed(2);
        ShuffleOptions o = new ShuffleOptions(ShuffleMethod.LAYER, 6, c.withThreads(1));
        List<long[]> calls = new CopyOnWriteArrayList<>();
        ShuffleResult one = ShuffleTest.run(tiny(), o, (task, done, total) -> calls.add(new long[] {done, total}));
        ShuffleResult two = ShuffleTest.run(tiny(), o.withCluster(c.withThreads(2)), null);
        assertArrayEquals(one.ncuts(), two.ncuts(), 0.0);
        assertEquals(one.trainedNcut(), two.trainedNcut(), 0.0);
        assertEquals(7, calls.size());
        assertEquals(6, calls.get(6)[0]);
        for (double v : one.ncuts()) {
            assertTrue(v > 0 && v < 4);
        }
        assertEquals(6, one.n());
        String json = Json.write(one);
        assertTrue(json.contains("\"method\":\"layer\"") && json.contains("\"z\":") && json.contains("\"p\":"), json);
        ShuffleResult nz = ShuffleTest.run(tiny(), o.withMethod(ShuffleMethod.LAYER_NONZERO).withShuffles(2), null);
        assertEquals(ShuffleMethod.LAYER_NONZERO, nz.method());
    }

    @Test
    void aListenerCanCancel() {
        ShuffleOptions o = new ShuffleOptions(ShuffleMethod.LAYER, 20, ClusterOptions.defaults().withK(4).withThreads(2));
        List<Long> seen = new ArrayList<>();
        CancelledException e = assertThrows(CancelledException.class, () -> ShuffleTest.run(tiny(), o, (task, done, total) -> {
            seen.add(done);
            if (done >= 2) {
                throw new CancelledException("stop");
            }
        }));
        assertEquals("stop", e.getMessage());
        assertTrue(seen.size() < 20);
        assertThrows(dev.cleave.util.InvalidInputException.class, () -> ShuffleOptions.defaults().withShuffles(0));
        assertEquals(ShuffleMethod.LAYER_NONZERO, ShuffleMethod.parse("layer-nonzero"));
    }
}
