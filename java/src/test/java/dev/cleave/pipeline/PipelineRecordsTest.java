package dev.cleave.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.circuits.EffectiveCircuitSize;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.CoClusterVariant;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.data.Dataset;
import dev.cleave.graph.Duplicates;
import dev.cleave.graph.SelfLoops;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.train.ModelFile;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's records: each step's result written by {@link Results} and read back through
 * its record type is equal to what the step returned, with the JSON field names the CLI has
 * always written; the command lines derived from the provenance.
 */
class PipelineRecordsTest {
    @TempDir
    static Path tmp;

    static Path model;

    @BeforeAll
    static void writeModel() throws IOException {
        model = tmp.resolve("model.safetensors");
        try (Mlp m = Mlp.glorotUniform(new int[] {16, 12, 10, 4}, 5)) {
            ModelFile.save(model, m, null, Map.of());
        }
    }

    private static Device cpu() {
        return Device.cpu(2);
    }

    private static <T> T roundTrip(T run, Class<T> type, String file) throws IOException {
        Path f = tmp.resolve(file);
        Results.write(f, run);
        T back = Results.read(f, type);
        assertEquals(run, back, "record -> JSON -> record");
        assertEquals(Json.mapper().readTree(f.toFile()), Json.mapper().readTree(Results.line(back)), "the JSON it writes again");
        return back;
    }

    private static List<String> fields(JsonNode n) {
        List<String> names = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    @Test
    void clusterRunRoundTripsWithTheShuffleTestAndKeepsItsFieldNames() throws IOException {
        ClusterOptions options = ClusterOptions.defaults().withK(3).withNInit(4).withSeed(11).withThreads(2).withBackend(cpu());
        ClusterRun run = Pipeline.clusterModel(new ClusterModelRequest(model, options, 4, ShuffleMethod.LAYER,
                tmp.resolve("cluster.json")), ProgressListener.NONE);
        ClusterRun back = roundTrip(run, ClusterRun.class, "cluster.json");
        assertEquals(run.result().ncut(), back.result().ncut());
        assertArrayEquals(run.result().labels(), back.result().labels());
        assertArrayEquals(run.shuffle().ncuts(), back.shuffle().ncuts());
        assertEquals(run.shuffle().z(), back.shuffle().z());
        assertEquals(run.provenance(), back.provenance());
        assertEquals(model.toString(), back.model());
        assertNull(back.graph());

        JsonNode json = Json.mapper().readTree(tmp.resolve("cluster.json").toFile());
        List<String> names = fields(json);
        assertEquals(List.of("nodes", "total_nodes", "edges", "k", "ncut"), names.subList(0, 5));
        assertEquals(List.of("shuffle", "model", "model_layers", "command", "provenance"), names.subList(names.size() - 5,
                names.size()));
        assertEquals(back.modelLayers(), json.get("model_layers").asText());
        assertTrue(back.modelLayers().startsWith("layers: "), back.modelLayers());
        assertEquals(List.of("method", "n", "mean", "sd", "z", "p", "lower", "seconds", "ncuts"), fields(json.get("shuffle")));
        assertEquals("layer", json.get("shuffle").get("method").asText());
        assertEquals(run.command(), json.get("command").asText());
        assertEquals(4, json.get("shuffle").get("ncuts").size());
    }

    @Test
    void clusterRunOfAGraphRoundTrips() throws IOException {
        Path mtx = tmp.resolve("triangles.mtx");
        Files.writeString(mtx, "%%MatrixMarket matrix coordinate real symmetric\n6 6 7\n2 1 1\n3 1 1\n3 2 1\n5 4 1\n6 4 1\n6 5 1\n4 3 0.01\n");
        ClusterRun run = Pipeline.clusterGraph(new ClusterGraphRequest(mtx, SelfLoops.DROP, Duplicates.SUM,
                ClusterOptions.defaults().withK(2).withBackend(Device.java()), null));
        ClusterRun back = roundTrip(run, ClusterRun.class, "graph.json");
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, back.result().labels());
        assertNull(back.shuffle());
        assertEquals(mtx.toString(), back.graph());
        assertEquals("cleave cluster --graph " + mtx + " --self-loops drop --duplicates sum --k 2 --n-init 25 --tolerance 0.000001"
                + " --seed 0 --backend java --threads 1", back.command());
    }

    @Test
    void coclusterRunRoundTripsAndItsClustersFeedCircuits() throws IOException {
        CoclusterRun run = Pipeline.cocluster(new CoclusterRequest(model, 2, "hidden", CoClusterVariant.JOINT, 3, cpu(),
                tmp.resolve("cocluster.json")));
        CoclusterRun back = roundTrip(run, CoclusterRun.class, "cocluster.json");
        assertEquals(1, back.layers().size()); // 16-12-10-4: layer 1 is the one hidden-to-hidden matrix
        assertEquals(run.layers().get(0).c(), back.layers().get(0).c());
        assertArrayEquals(run.clusters().get(0).rowLabels(), back.clusters().get(0).rowLabels());
        assertEquals(List.of("model", "model_layers", "k", "variant", "layers", "clusters", "command", "provenance"),
                fields(Json.mapper().readTree(tmp.resolve("cocluster.json").toFile())));

        Dataset test = data(new Random(8));
        try (Backend ops = cpu().open()) {
            CircuitsRun circuits = Pipeline.circuits(new CircuitsRequest(model, tmp.resolve("cocluster.json"), 2, "blobs", null,
                    new EffectiveCircuitSize.Options(null, 3, null, EffectiveCircuitSize.Options.FAST, 2), 3, cpu(),
                    tmp.resolve("circuits.json")), test, ops, ProgressListener.NONE);
            CircuitsRun cBack = roundTrip(circuits, CircuitsRun.class, "circuits.json");
            assertEquals(tmp.resolve("cocluster.json").toString(), cBack.clustersFrom());
            assertEquals(2, cBack.ablation().k());
            assertArrayEquals(circuits.ecs(), cBack.ecs());
            assertEquals(circuits.meanEcs(), cBack.meanEcs());
            double mean = 0;
            for (double v : cBack.ecs()) {
                mean += v;
            }
            assertEquals(mean / cBack.ecs().length, cBack.meanEcs(), 1e-15);
            JsonNode json = Json.mapper().readTree(tmp.resolve("circuits.json").toFile());
            assertEquals(List.of("model", "model_layers", "clusters_from", "ablation", "ecs_result", "ecs", "mean_ecs", "mean_circuit_overlap",
                    "command", "provenance"), fields(json));
            assertFalse(json.get("ecs_result").get("circuits").get(0).has("mask"), "masks are left out of the file");

            CircuitsRun noEcs = Pipeline.circuits(new CircuitsRequest(model, null, 2, "blobs", null, null, 3, cpu(), null), test, ops,
                    ProgressListener.NONE);
            CircuitsRun nBack = roundTrip(noEcs, CircuitsRun.class, "no-ecs.json");
            assertNull(nBack.ecs());
            assertEquals("co-clustering of the hidden layers, k = 2", nBack.clustersFrom());
            assertTrue(nBack.command().contains(" --no-ecs "), nBack.command());
            assertFalse(Json.mapper().readTree(tmp.resolve("no-ecs.json").toFile()).has("mean_ecs"));
        }
    }

    private static Dataset data(Random r) {
        int n = 40;
        float[] images = new float[n * 16];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 4;
            for (int j = 0; j < 16; j++) {
                images[i * 16 + j] = r.nextFloat();
            }
        }
        return new Dataset("blobs", 4, 4, 4, images, labels);
    }

    @Test
    void theCommandLineIsDerivedFromTheProvenanceWithBackendAndThreads() {
        ClusterOptions options = ClusterOptions.defaults().withSeed(7).withThreads(3).withBackend(Device.cpu(3));
        Provenance p = new ClusterModelRequest(Path.of("runs/demo/baseline/model.safetensors"), options, 50, ShuffleMethod.LAYER,
                Path.of("runs/demo/baseline/cluster.json")).provenance();
        assertEquals("cleave cluster runs/demo/baseline/model.safetensors --k 12 --n-init 25 --tolerance 0.000001 --shuffles 50"
                + " --shuffle-method layer --out runs/demo/baseline/cluster.json --seed 7 --backend cpu --threads 3", p.commandLine());
        assertEquals(Device.Kind.CPU, p.backend());
        assertEquals(3, p.threads());
        assertNull(p.gpu());

        Provenance co = new CoclusterRequest(Path.of("my runs/model.safetensors"), 4, "1,2", CoClusterVariant.SEPARATE, 1,
                Device.cudaEmu().withThreads(2), null).provenance();
        assertEquals("cleave cocluster 'my runs/model.safetensors' --k 4 --layers 1,2 --n-init 25 --variant separate --seed 1"
                + " --backend cuda-emu --threads 2", co.commandLine(), "a path with a space is quoted");

        Provenance circuits = new CircuitsRequest(Path.of("m.safetensors"), null, 4, "fashion-mnist", Path.of("/data"),
                new EffectiveCircuitSize.Options(null, 200, new int[] {1, 2}, "fast", 2), 0, Device.cpu(2), null).provenance();
        assertEquals("cleave circuits m.safetensors --dataset fashion-mnist --data-dir /data --k 4 --images-per-label 200"
                + " --ecs-layers 1,2 --method fast --seed 0 --backend cpu --threads 2", circuits.commandLine());

        // a provenance on a GPU names the GPU; one of the same options on another device is another provenance
        Provenance gpu = new Provenance("cluster", List.of("m.safetensors"), 0, Device.Kind.CUDA, 4, 1, null, "dev", "17");
        assertEquals("cleave cluster m.safetensors --seed 0 --backend cuda --threads 4 --device 1", gpu.commandLine());
        assertNotEquals(p, new ClusterModelRequest(Path.of("runs/demo/baseline/model.safetensors"),
                options.withBackend(Device.java()), 50, ShuffleMethod.LAYER, Path.of("runs/demo/baseline/cluster.json")).provenance());
    }

    @Test
    void autoRecordsWhatItChoseAndTheCommandNamesTheResolvedKind() {
        Device auto = Device.resolve("auto", 2, msg -> {});
        Provenance p = new CoclusterRequest(model, 2, "hidden", CoClusterVariant.JOINT, 0, auto, null).provenance();
        assertTrue(p.backendChoice().startsWith("auto: chose "), p.backendChoice());
        assertTrue(p.commandLine().contains(" --backend " + auto.kind() + " --threads 2"), p.commandLine());
        assertFalse(p.commandLine().contains("auto"), p.commandLine());
    }

    @Test
    void aResultFileOfAnotherShapeIsRefusedNamingTheFile() throws IOException {
        Path bad = tmp.resolve("bad-cluster.json");
        Files.writeString(bad, "{\"ncut\": 1.0}");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Results.read(bad, ClusterRun.class));
        assertTrue(e.getMessage().startsWith(bad + ": not a valid ClusterRun file"), e.getMessage());
        Path notJson = tmp.resolve("torn.json");
        Files.writeString(notJson, "{\"model\": ");
        e = assertThrows(InvalidInputException.class, () -> Results.read(notJson, CoclusterRun.class));
        assertTrue(e.getMessage().startsWith(notJson + ": not a valid CoclusterRun file"), e.getMessage());
        assertNull(Results.read(tmp.resolve("absent.json"), CircuitsRun.class));
    }

    @Test
    void filesWrittenBeforeTheProvenanceAndTheDeviceValueStillRead() throws IOException {
        ClusterRun run = Pipeline.clusterGraph(new ClusterGraphRequest(writeTriangles(), SelfLoops.DROP, Duplicates.SUM,
                ClusterOptions.defaults().withK(2), null));
        com.fasterxml.jackson.databind.node.ObjectNode old = Json.mapper().valueToTree(run);
        old.remove("provenance");
        old.put("command", "cleave cluster --graph x.mtx --k 2");
        ((com.fasterxml.jackson.databind.node.ObjectNode) old.get("options")).put("backend", "native");
        Path f = tmp.resolve("old-cluster.json");
        Files.writeString(f, Json.writePretty(old));
        ClusterRun back = Results.read(f, ClusterRun.class);
        assertNull(back.provenance());
        assertNull(back.command());
        assertEquals(Device.Kind.CPU, back.result().options().backend().kind());
        assertArrayEquals(run.result().labels(), back.result().labels());
    }

    private static Path writeTriangles() throws IOException {
        Path mtx = tmp.resolve("triangles-b.mtx");
        Files.writeString(mtx, "%%MatrixMarket matrix coordinate real symmetric\n6 6 7\n2 1 1\n3 1 1\n3 2 1\n5 4 1\n6 4 1\n6 5 1\n4 3 0.01\n");
        return mtx;
    }
}
