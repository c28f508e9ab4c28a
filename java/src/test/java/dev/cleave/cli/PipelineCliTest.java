package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.data.Idx;
import dev.cleave.io.Json;
import dev.cleave.pipeline.CircuitsRun;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.CoclusterRun;
import dev.cleave.pipeline.Results;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands recorded in cluster, cocluster and circuits results are derived from their
 * provenance: they name the backend and threads, running one again reproduces the numbers, and
 * the report shows them.
 */
class PipelineCliTest {
    @TempDir
    Path tmp;

    private Path data() throws IOException {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        for (String prefix : new String[] {"train", "t10k"}) {
            int n = prefix.equals("train") ? 400 : 100;
            Random r = new Random(prefix.length());
            float[] px = new float[n * 64];
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = r.nextInt(10);
                for (int p = 0; p < 64; p++) {
                    px[i * 64 + p] = Math.round(((p * 10 / 64 == labels[i] ? 0.7f : 0.1f) + 0.2f * r.nextFloat()) * 255) / 255f;
                }
            }
            Idx.writeImages(data.resolve(prefix + "-images-idx3-ubyte.gz"), new Idx.Images(n, 8, 8, px), true);
            Idx.writeLabels(data.resolve(prefix + "-labels-idx1-ubyte.gz"), labels, true);
        }
        return data;
    }

    /** The JSON without wall times (the only values a second run may change). */
    private static JsonNode numbers(Object run) {
        JsonNode n = Json.mapper().valueToTree(run);
        strip(n);
        return n;
    }

    private static void strip(JsonNode n) {
        if (n instanceof ObjectNode o) {
            o.remove("seconds");
            o.forEach(PipelineCliTest::strip);
        } else if (n.isArray()) {
            n.forEach(PipelineCliTest::strip);
        }
    }

    /** Runs a recorded command line (unquoted words: the test's paths have no spaces) and checks it succeeded. */
    private static void rerun(String command) {
        assertFalse(command.contains("'"), command);
        String[] words = command.split(" ");
        assertEquals("cleave", words[0]);
        CliTest.Result r = CliTest.cli(Arrays.copyOfRange(words, 1, words.length));
        assertEquals(0, r.code(), command + "\n" + r.err());
    }

    @Test
    void recordedCommandsNameTheDeviceReproduceTheNumbersAndAppearInTheReport() throws IOException {
        Path data = data();
        Path run = tmp.resolve("run");
        CliTest.Result t = CliTest.cli("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,24,16,10",
                "--epochs", "2", "--batch-size", "50", "--lr", "0.01", "--threads", "2", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        Path model = run.resolve("model.safetensors");

        Path clusterFile = run.resolve(Results.CLUSTER_FILE);
        CliTest.Result c = CliTest.cli("cluster", model.toString(), "--k", "3", "--shuffles", "3", "--seed", "4", "--threads", "1",
                "--out", clusterFile.toString());
        assertEquals(0, c.code(), c.err());
        ClusterRun cluster = Results.read(clusterFile, ClusterRun.class);
        assertEquals("cleave cluster " + model + " --k 3 --n-init 25 --tolerance 0.000001 --shuffles 3 --shuffle-method layer --out "
                + clusterFile + " --seed 4 --backend cpu --threads 1", cluster.command());

        Path coFile = run.resolve(Results.COCLUSTER_FILE);
        assertEquals(0, CliTest.cli("cocluster", model.toString(), "--k", "2", "--threads", "2", "--out", coFile.toString()).code());
        CoclusterRun co = Results.read(coFile, CoclusterRun.class);
        assertTrue(co.command().endsWith(" --out " + coFile + " --seed 0 --backend cpu --threads 2"), co.command());

        Path circuitsFile = run.resolve(Results.CIRCUITS_FILE);
        CliTest.Result circ = CliTest.cli("circuits", model.toString(), "--dataset", "mnist-idx", "--data-dir", data.toString(),
                "--clusters", coFile.toString(), "--images-per-label", "2", "--threads", "2", "--out", circuitsFile.toString());
        assertEquals(0, circ.code(), circ.err());
        CircuitsRun circuits = Results.read(circuitsFile, CircuitsRun.class);
        assertEquals("cleave circuits " + model + " --dataset mnist-idx --data-dir " + data + " --clusters " + coFile
                + " --k 4 --images-per-label 2 --method fast --out " + circuitsFile + " --seed 0 --backend cpu --threads 2",
                circuits.command());

        Path html = tmp.resolve("report.html");
        assertEquals(0, CliTest.cli("report", run.toString(), "--out", html.toString()).code());
        String page = Files.readString(html);
        for (String command : new String[] {cluster.command(), co.command(), circuits.command()}) {
            assertTrue(page.contains("<code>" + command + "</code>"), command);
        }

        // each recorded command, run again, writes the same numbers (and the same provenance)
        rerun(cluster.command());
        ClusterRun again = Results.read(clusterFile, ClusterRun.class);
        assertEquals(numbers(cluster), numbers(again));
        rerun(co.command());
        assertEquals(numbers(co), numbers(Results.read(coFile, CoclusterRun.class)));
        rerun(circuits.command());
        assertEquals(numbers(circuits), numbers(Results.read(circuitsFile, CircuitsRun.class)));
        // and a different seed is a different command with different provenance
        assertEquals(0, CliTest.cli("cluster", model.toString(), "--k", "3", "--seed", "5", "--threads", "1", "--out",
                clusterFile.toString()).code());
        ClusterRun other = Results.read(clusterFile, ClusterRun.class);
        assertTrue(other.command().contains(" --shuffles 0 ") && other.command().contains(" --seed 5 "), other.command());
    }
}
