package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Network;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --arch ... --modular} end to end: C in the metrics, clusters in the model file, resume, defaults and errors. */
class CnnModularCliTest {
    @TempDir
    static Path tmp;
    static Path idx;

    /** conv2 = layers.2 (8 x 4 x 3 x 3), fc2 = layers.8 (16 x 16). */
    static final String ARCH = "conv:4,relu,conv:8,relu,maxpool,flatten,linear:16,relu,linear:16,relu,linear:10";

    @BeforeAll
    static void writeData() throws IOException {
        idx = CliTest.writeDataSet(tmp.resolve("idx"), 300, 100);
    }

    private static String[] train(String arch, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--arch", arch, "--dataset", "mnist-idx", "--data-dir",
                idx.toString(), "--batch-size", "25", "--lr", "0.01", "--seed", "3", "--threads", "2"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void convAndDenseLayersTrainModularAndResumeExactlyAcrossTheAssignment() throws IOException {
        String[] modular = {"--modular-layers", "conv2,fc2", "--modular-k", "2", "--warmup-epochs", "1"};
        Path full = tmp.resolve("full");
        CliTest.Result a = CliTest.cli(train(ARCH, concat(modular, "--epochs", "3", "--out", full.toString())));
        assertEquals(0, a.code(), a.err());
        List<String> epochs = a.out().lines().filter(l -> l.startsWith("epoch ")).toList();
        assertEquals(3, epochs.size(), a.out());
        assertTrue(!epochs.get(0).contains(" C "), "no C in the warm-up: " + epochs.get(0));
        assertTrue(epochs.get(1).contains("  C 2=") && epochs.get(1).contains(" 8="), epochs.get(1));
        JsonNode last = Json.mapper().readTree(Files.readAllLines(full.resolve(RunDir.METRICS)).get(2));
        assertTrue(last.get("clusterability").get("layers.2.weight").asDouble() > 0.5, last.toString());
        assertTrue(last.get("clusterability").has("layers.8.weight"), last.toString());

        SafetensorsFile model = Safetensors.read(full.resolve(RunDir.MODEL));
        List<LayerClusters> clusters = RunDir.clustersOf(model.metadata());
        assertEquals(List.of(2, 8), clusters.stream().map(LayerClusters::layer).toList(), "layer = N of layers.N.weight");
        assertEquals(8, clusters.get(0).rows());
        assertEquals(4, clusters.get(0).cols(), "conv2's clusters pair output with input channels");
        assertTrue(model.metadata().get("config").contains("\"layers\":\"conv2,fc2\""), model.metadata().get("config"));

        TrainConfig config = RunDir.forReading(full).readConfig();
        DatasetSplit data = Datasets.load("mnist-idx", idx, msg -> {});
        for (int stop : new int[] {1, 2}) { // a run stopped (as by a kill) after the warm-up and after the first loss epoch
            Path part = tmp.resolve("part" + stop);
            try (Backend backend = Device.cpu(config.threads()).open(); RunDir run = RunDir.create(part, config);
                    Network net = Trainer.initialNetwork(config, backend); Trainer t = new Trainer(config, backend, net)) {
                for (int e = 0; e < stop; e++) {
                    run.saveEpoch(t, config, t.runEpoch(data.train(), data.test(), ProgressListener.NONE));
                }
            }
            assertEquals(stop == 1, RunDir.clustersOf(Safetensors.read(part.resolve(RunDir.MODEL)).metadata()).isEmpty());
            CliTest.Result b = CliTest.cli("train", "--resume", part.toString(), "--epochs", "3");
            assertEquals(0, b.code(), b.err());
            SafetensorsFile resumed = Safetensors.read(part.resolve(RunDir.MODEL));
            for (String name : List.of("layers.0.weight", "layers.2.weight", "layers.2.bias", "layers.6.weight", "layers.8.weight",
                    "layers.10.weight")) {
                assertArrayEquals(model.tensor(name).asFloats(), resumed.tensor(name).asFloats(), name + " resumed after " + stop);
            }
            assertEquals(clusters, RunDir.clustersOf(resumed.metadata()));
        }
    }

    @Test
    void g24CnnClustersFc2ByDefault() throws IOException {
        Path out = tmp.resolve("g24");
        CliTest.Result r = CliTest.cli(train("g24-cnn", "--modular", "--warmup-epochs", "1", "--epochs", "2", "--out",
                out.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("epoch 2/2") && l.contains("  C 6=")), r.out());
        JsonNode config = Json.mapper().readTree(Files.readString(out.resolve("config.json")));
        assertEquals("fc2", config.get("modular").get("layers").asText());
        assertEquals(List.of(6), RunDir.clustersOf(Safetensors.read(out.resolve(RunDir.MODEL)).metadata()).stream()
                .map(LayerClusters::layer).toList());
    }

    @Test
    void selectionsThatDoNotFitTheNetworkAreOneLineErrors() {
        CliTest.Result r = CliTest.cli(train(ARCH, "--modular-layers", "fc2,conv7", "--out", tmp.resolve("e1").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--modular-layers fc2,conv7: 'conv7' is not a layer of --arch " + ARCH)
                && r.err().contains("conv2 = layers.2 (conv 8 x 4 x 3 x 3)"), r.err());
        r = CliTest.cli(train(ARCH, "--modular-layers", "conv", "--out", tmp.resolve("e2").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--modular-k 4 is more clusters than conv1 (layers.0) can hold: it has 4 output and 1 input "
                + "channels"), r.err());
        r = CliTest.cli(train("conv:4,relu,flatten,linear:10", "--modular", "--out", tmp.resolve("e3").toString()));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--modular-layers hidden selects no layer of --arch conv:4,relu,flatten,linear:10"), r.err());
        for (CliTest.Result e : List.of(r)) {
            assertEquals(1, e.err().strip().lines().count(), e.err());
            assertTrue(!e.err().contains("\tat "), e.err());
        }
        assertTrue(!Files.exists(tmp.resolve("e1")) && !Files.exists(tmp.resolve("e3")), "no run folder for a refused run");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
