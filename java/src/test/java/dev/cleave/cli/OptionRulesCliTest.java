package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nn.Mlp;
import dev.cleave.train.ModelFile;
import dev.cleave.util.FloatMatrix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One rule per option across commands, and messages that name the option the user typed: each
 * case exits 2 with exactly one error line, naming the option, no usage block or stack trace, and
 * leaves no run folder behind.
 */
class OptionRulesCliTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        data = CliTest.writeDataSet(tmp.resolve("data"), 200, 100);
    }

    /** The single error line of a failed command; fails unless the exit is 2 and nothing else was printed to stderr. */
    private static String error(String... args) {
        CliTest.Result r = CliTest.cli(args);
        assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.out() + r.err());
        List<String> lines = r.err().lines().filter(l -> l.startsWith("cleave ")).toList(); // besides progress and data logs
        assertEquals(1, lines.size(), "one error line for " + String.join(" ", args) + ":\n" + r.err());
        assertFalse(r.err().contains("Usage:") || r.err().contains("\tat "), r.err());
        return lines.get(0);
    }

    private static String[] train(String out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers",
                "64,16,16,10", "--epochs", "2", "--out", tmp.resolve(out).toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private static void assertNoRunFolder(String out) {
        assertFalse(Files.exists(tmp.resolve(out)), "a refused start must not leave " + out);
    }

    @Test
    void aRepeatedOptionIsAnErrorEverywhere() {
        String e = error("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,16,10", "--layers",
                "64,8,10", "--out", tmp.resolve("twice").toString());
        assertTrue(e.contains("--layers is given 2 times: give it once"), e);
        assertNoRunFolder("twice");
        e = error(train("twice2", "--epochs", "3"));
        assertTrue(e.contains("--epochs is given more than once: give it once"), e);
        e = error("cluster", "x.safetensors", "--k", "2", "--k", "3");
        assertTrue(e.startsWith("cleave cluster: error: --k is given more than once"), e);
    }

    @Test
    void parseErrorsAreOneLineWithAPointerToHelp() {
        String e = error("train", "--epochs", "x");
        assertEquals("cleave train: error: Invalid value for option '--epochs': 'x' is not an int. See 'cleave train --help'", e);
        e = error("cluster", "--kk", "3");
        assertTrue(e.startsWith("cleave cluster: error: Unknown option") && e.endsWith("See 'cleave cluster --help'"), e);
        e = error("cocluster");
        assertTrue(e.contains("MODEL") && e.endsWith("See 'cleave cocluster --help'"), e);
    }

    @Test
    void countsHaveOneRangeAndZeroIsNotAll() {
        String e = error(train("t0", "--threads", "0"));
        assertTrue(e.contains("--threads must be in [1, 1024], got 0 (leave it out to use all"), e);
        assertNoRunFolder("t0");
        e = error("cluster", "x.safetensors", "--threads", "0");
        assertTrue(e.contains("--threads must be in [1, 1024], got 0"), e);
        e = error("cluster", "x.safetensors", "--shuffles", "-1");
        assertTrue(e.contains("--shuffles must be in [0, 100000] (0: no shuffle test), got -1"), e);
        e = error("cluster", "x.safetensors", "--shuffles", "1000000000");
        assertTrue(e.contains("--shuffles must be in [0, 100000]"), e);
        e = error(train("p0", "--prune-epochs", "0"));
        assertTrue(e.contains("--prune-epochs must be >= 1, got 0"), e);
        assertNoRunFolder("p0");
    }

    @Test
    void modularLayersAndKAreCheckedAgainstTheNetwork() {
        String e = error(train("m1", "--modular-layers", "1,1"));
        assertTrue(e.contains("--modular-layers 1,1 names layer 1 twice: give each layer once"), e);
        e = error(train("m2", "--modular-k", "17"));
        assertTrue(e.contains("--modular-k 17 is more clusters than layer 1 can hold (its weight is 16 x 16"), e);
        assertTrue(e.contains("use --modular-k 16 or less"), e);
        e = error(train("m3", "--modular-layers", "1,x"));
        assertTrue(e.contains("--modular-layers must be hidden, all or a list of layer indices like 1,2; 'x' in '1,x'"), e);
        for (String out : List.of("m1", "m2", "m3")) {
            assertNoRunFolder(out);
        }
    }

    @Test
    void aMissingDataDirIsAnErrorNotAFallBack() {
        Path missing = tmp.resolve("no-such-folder");
        String e = error("train", "--data-dir", missing.toString(), "--no-install", "--out", tmp.resolve("dd").toString());
        assertTrue(e.contains("--data-dir " + missing + " (does not exist): fashion-mnist is not there"), e);
        assertTrue(e.contains("leave --data-dir out to use"), e);
        assertNoRunFolder("dd");
        e = error("train", "--dataset", "mnist", "--data-dir", missing.toString(), "--no-install", "--out",
                tmp.resolve("dd2").toString());
        assertTrue(e.contains("--data-dir " + missing + " (does not exist): the mnist digits are not there"), e);
    }

    @Test
    void coclusterAndCircuitsNameTheirOwnOptions() throws IOException {
        Random r = new Random(5);
        Path deep = tmp.resolve("deep.safetensors"), shallow = tmp.resolve("shallow.safetensors");
        save(deep, r, new int[] {64, 16, 8, 10}, -1);
        save(shallow, r, new int[] {64, 10}, -1);
        String e = error("cocluster", deep.toString(), "--k", "0");
        assertTrue(e.contains("--k must be >= 1 (co-clusters per layer), got 0") && !e.contains("--modular"), e);
        e = error("cocluster", deep.toString(), "--layers", "9");
        assertTrue(e.contains("--layers: layer 9 does not exist (the model's weight layers are 0..2)") && !e.contains("--modular"), e);
        e = error("cocluster", deep.toString(), "--k", "9");
        assertTrue(e.contains("--k 9 is more clusters than layer 1 can hold (its weight is 8 x 16"), e);
        e = error("circuits", deep.toString(), "--k", "0", "--dataset", "mnist-idx", "--data-dir", data.toString());
        assertTrue(e.contains("--k must be >= 1") && !e.contains("--modular"), e);
        e = error("circuits", shallow.toString(), "--dataset", "mnist-idx", "--data-dir", data.toString());
        assertTrue(e.contains("has 1 weight layer and no hidden-to-hidden weights to co-cluster"), e);
        assertTrue(e.contains("--layers all --out FILE' and give --clusters FILE"), e);
        // The command the message suggests works.
        Path clusters = tmp.resolve("shallow-clusters.json");
        CliTest.Result co = CliTest.cli("cocluster", shallow.toString(), "--layers", "all", "--k", "2", "--out", clusters.toString());
        assertEquals(0, co.code(), co.err());
        CliTest.Result c = CliTest.cli("circuits", shallow.toString(), "--clusters", clusters.toString(), "--no-ecs", "--dataset",
                "mnist-idx", "--data-dir", data.toString());
        assertEquals(0, c.code(), c.err());
    }

    @Test
    void aZeroLayerIsNamedAsTheLayerNotTheNetwork() throws IOException {
        Path file = tmp.resolve("one-zero-layer.safetensors");
        save(file, new Random(6), new int[] {64, 16, 10}, 1);
        String e = error("cocluster", file.toString(), "--layers", "all", "--k", "2");
        assertTrue(e.contains(file + ", layers.1.weight (layer 1): the 10 x 16 weight matrix is all zero: there is nothing to co-cluster"), e);
        assertFalse(e.contains("network"), e);
        // The network as a whole still has edges: clustering it works.
        CliTest.Result c = CliTest.cli("cluster", file.toString(), "--k", "2");
        assertEquals(0, c.code(), c.err());
    }

    @Test
    void anUnwritableOutIsRefusedBeforeTheWorkAndAFailedWriteKeepsTheResult() throws IOException {
        Path model = tmp.resolve("out-model.safetensors");
        save(model, new Random(7), new int[] {64, 16, 8, 10}, -1);
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        for (String cmd : List.of("cluster", "cocluster")) {
            String e = error(cmd, model.toString(), "--k", "2", "--out", file.resolve("r.json").toString());
            assertTrue(e.contains("--out " + file.resolve("r.json") + ": cannot write into its folder " + file), e);
            e = error(cmd, model.toString(), "--k", "2", "--out", tmp.toString());
            assertTrue(e.contains("--out " + tmp + " is a folder: give the path of a file"), e);
        }
        String e = error("report", tmp.toString(), "--out", tmp.toString());
        assertTrue(e.contains("--out " + tmp + " is a folder"), e);
        // A missing parent folder is created.
        Path nested = tmp.resolve("new/folder/cluster.json");
        assertEquals(0, CliTest.cli("cluster", model.toString(), "--k", "2", "--out", nested.toString()).code());
        assertTrue(Files.isRegularFile(nested));
        // The disk fills while the result is written: exit 2, one line, and the result was printed first.
        Path target = tmp.resolve("full-disk.json");
        dev.cleave.io.AtomicFiles.observeWrites((t, f, position, length) -> {
            if (t.equals(target)) {
                throw new IOException("No space left on device");
            }
        });
        try {
            CliTest.Result r = CliTest.cli("cluster", model.toString(), "--k", "2", "--json", "--out", target.toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("--out " + target + ": cannot write the result (No space left on device); it is printed "
                    + "above"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
            assertTrue(r.out().contains("\"ncut\":"), "the result reached stdout: " + r.out());
            assertFalse(Files.exists(target));
        } finally {
            dev.cleave.io.AtomicFiles.observeWrites(null);
        }
    }

    /** A random MLP with these widths; layer {@code zeroLayer} (or none, -1) all zero. */
    private static void save(Path file, Random r, int[] widths, int zeroLayer) throws IOException {
        List<FloatMatrix> weights = new ArrayList<>();
        List<float[]> biases = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            float[] w = new float[widths[l + 1] * widths[l]];
            for (int i = 0; i < w.length && l != zeroLayer; i++) {
                w[i] = (float) r.nextGaussian() * 0.2f;
            }
            weights.add(new FloatMatrix(widths[l + 1], widths[l], w));
            biases.add(new float[widths[l + 1]]);
        }
        try (Mlp m = Mlp.fromMatrices(weights, biases)) {
            ModelFile.save(file, m, null, Map.of());
        }
    }
}
