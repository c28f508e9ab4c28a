package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cleave.graph.ScipyStyleFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cleave cluster --graph}: files as SciPy writes them, --self-loops, --duplicates, bad files. */
class GraphOptionsCliTest {
    @TempDir
    Path tmp;

    static CliTest.Result cli(String... args) {
        return CliTest.cli(args);
    }

    static void assertOneLineError(CliTest.Result r, String... parts) {
        assertEquals(2, r.code(), r.out() + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n") || err.contains("Exception") || err.contains("\tat "), err);
        for (String p : parts) {
            assertTrue(err.contains(p), "'" + p + "' in " + err);
        }
    }

    @Test
    void anRbfAffinityWrittenByMmwriteClustersWithTheDefaults() throws IOException {
        Path f = tmp.resolve("rbf.mtx");
        int[] blob = ScipyStyleFiles.rbfTwoBlobs(f, 120, 0.5, 5);
        CliTest.Result r = cli("cluster", "--graph", f.toString(), "--k", "2", "--json");
        assertEquals(0, r.code(), r.err());
        String json = r.out().strip().split("\n")[1];
        String labels = Arrays.stream(blob).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]"));
        assertTrue(json.contains("\"labels\":" + labels), json);
        assertTrue(json.contains("\"components\":1") && json.contains("\"isolated_nodes_dropped\":0"), json);
        CliTest.Result text = cli("cluster", "--graph", f.toString(), "--k", "2");
        assertTrue(text.out().contains("120 nodes (0 isolated dropped), 7140 edges, 1 components, k = 2"), text.out());
        assertOneLineError(cli("cluster", "--graph", f.toString(), "--k", "2", "--self-loops", "reject"),
                "rbf.mtx line 4: self loop at node 1 (weight 1.0)", "--self-loops drop");
        assertOneLineError(cli("cluster", "--graph", f.toString(), "--self-loops", "keep"),
                "--self-loops must be drop or reject, got 'keep'");
    }

    @Test
    void duplicatesAreSummedOrRefusedAndIsolatedNodesCounted() throws IOException {
        // two triangles joined by a weak edge; the edge {1,2} given twice (summed to 1); node 7
        // has only a diagonal entry and node 8 nothing: both isolated, dropped and counted
        Path f = tmp.resolve("dups.mtx");
        Files.writeString(f, "%%MatrixMarket matrix coordinate real symmetric\n8 8 10\n2 1 1\n3 1 1\n3 2 0.5\n3 2 0.5\n"
                + "5 4 1\n6 4 1\n6 5 1\n4 3 0.01\n7 7 1\n1 1 1\n");
        CliTest.Result r = cli("cluster", "--graph", f.toString(), "--k", "2", "--json");
        assertEquals(0, r.code(), r.err());
        String json = r.out().strip().split("\n")[1];
        assertTrue(json.contains("\"labels\":[0,0,0,1,1,1,-1,-1]") && json.contains("\"isolated_nodes_dropped\":2")
                && json.contains("\"components\":1") && json.contains("\"edges\":7"), json);
        assertOneLineError(cli("cluster", "--graph", f.toString(), "--duplicates", "reject"),
                "appears twice (", "dups.mtx line 5 and ", "dups.mtx line 6)", "--duplicates sum");
        assertOneLineError(cli("cluster", "--graph", f.toString(), "--duplicates", "max"),
                "--duplicates must be sum or reject, got 'max'");
        assertOneLineError(cli("cluster", tmp.resolve("model.safetensors").toString(), "--duplicates", "sum"),
                "--duplicates applies to --graph FILE.mtx only");
        Path nan = tmp.resolve("nan.mtx");
        Files.writeString(nan, "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n3 2 nan\n");
        assertOneLineError(cli("cluster", "--graph", nan.toString(), "--k", "2"), "nan.mtx line 4", "weights must be finite");
    }

    @Test
    void pipesDevicesFoldersAndHugeSizeLinesGiveOneLine() throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            Path fifo = tmp.resolve("pipe.mtx");
            Process p = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
            assumeTrue(p.waitFor() == 0, "mkfifo is available");
            assertOneLineError(cli("cluster", "--graph", fifo.toString()), fifo + ": is not a regular file");
            assertOneLineError(cli("cluster", "--graph", tmp.toString()), tmp + ": is not a regular file");
            if (Files.exists(Path.of("/dev/zero"))) {
                assertOneLineError(cli("cluster", "--graph", "/dev/zero"), "/dev/zero: is not a regular file");
            }
            Path huge = tmp.resolve("huge.mtx");
            Files.writeString(huge, "%%MatrixMarket matrix coordinate real symmetric\n2000000000 2000000000 2000000000\n2 1 1\n");
            assertOneLineError(cli("cluster", "--graph", huge.toString()), "huge.mtx line 2: 2000000000 nodes and "
                    + "2000000000 entries need about ", " bytes (", "JAVA_OPTS=-Xmx");
            Path zeros = tmp.resolve("zeros.mtx");
            Files.write(zeros, new byte[3 << 20]);
            assertOneLineError(cli("cluster", "--graph", zeros.toString()), "zeros.mtx line 1: longer than 1048576 characters");
        });
    }
}
