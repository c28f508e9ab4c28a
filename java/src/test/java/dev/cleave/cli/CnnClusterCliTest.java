package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.CoClusterOptions;
import dev.cleave.cluster.CoClusterResult;
import dev.cleave.cluster.CoClustering;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.graph.CnnGraphOptions;
import dev.cleave.graph.CnnLayer;
import dev.cleave.graph.CnnUnitGraph;
import dev.cleave.graph.SliceNorm;
import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.modular.Enmeshment;
import dev.cleave.nn.Device;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.CoclusterRun;
import dev.cleave.pipeline.Results;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cleave cluster}, {@code cluster --shuffles} and {@code cocluster} on CNN model files the
 * test writes (a cleave-net-v1 file from {@code cleave init} and a PyTorch-layout state_dict with
 * BatchNorm), each checked against the library called on layers the test reads from the file
 * itself; the records {@code --out} writes and {@code cleave report} on a CNN run; the errors.
 */
class CnnClusterCliTest {
    static final String ARCH = "conv:5,relu,conv:6,relu,maxpool,conv:7,relu,maxpool,flatten,linear:12,relu,linear:10";

    @TempDir
    static Path tmp;
    static Path net, bnDict, oneConv, mlp;

    @BeforeAll
    static void files() throws IOException {
        net = tmp.resolve("net.safetensors");
        assertEquals(0, cli("init", "--arch", ARCH, "--seed", "3", "--out", net.toString()).code());
        oneConv = tmp.resolve("one-conv.safetensors");
        assertEquals(0, cli("init", "--arch", "conv:4,relu,maxpool,flatten,linear:10", "--seed", "1", "--out", oneConv.toString())
                .code());
        mlp = tmp.resolve("mlp.safetensors");
        assertEquals(0, cli("init", "--arch", "flatten,linear:16,relu,linear:10", "--out", mlp.toString()).code());
        bnDict = tmp.resolve("bn.safetensors");
        writeBatchNormStateDict(bnDict);
    }

    /**
     * A torchvision-style state_dict: features.0 conv 4x1x3x3, features.1 BatchNorm, features.3
     * conv 5x4x3x3, features.4 BatchNorm, classifier 10 x (5 x 2 x 2); random running variances.
     */
    static void writeBatchNormStateDict(Path file) throws IOException {
        Random r = new Random(21);
        LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("features.0.weight", Safetensors.Tensor.ofFloats(new long[] {4, 1, 3, 3}, gaussian(r, 36)));
        t.put("features.0.bias", Safetensors.Tensor.ofFloats(new long[] {4}, gaussian(r, 4)));
        batchNorm(t, "features.1", 4, r);
        t.put("features.3.weight", Safetensors.Tensor.ofFloats(new long[] {5, 4, 3, 3}, gaussian(r, 180)));
        batchNorm(t, "features.4", 5, r);
        t.put("classifier.weight", Safetensors.Tensor.ofFloats(new long[] {10, 20}, gaussian(r, 200)));
        t.put("classifier.bias", Safetensors.Tensor.ofFloats(new long[] {10}, new float[10]));
        Safetensors.write(file, t, Map.of());
    }

    private static void batchNorm(Map<String, Safetensors.Tensor> t, String module, int c, Random r) {
        float[] var = new float[c], gamma = new float[c];
        for (int i = 0; i < c; i++) {
            var[i] = 0.05f + 3 * r.nextFloat();
            gamma[i] = 0.5f + r.nextFloat();
        }
        t.put(module + ".weight", Safetensors.Tensor.ofFloats(new long[] {c}, gamma));
        t.put(module + ".bias", Safetensors.Tensor.ofFloats(new long[] {c}, gaussian(r, c)));
        t.put(module + ".running_mean", Safetensors.Tensor.ofFloats(new long[] {c}, gaussian(r, c)));
        t.put(module + ".running_var", Safetensors.Tensor.ofFloats(new long[] {c}, var));
        t.put(module + ".num_batches_tracked", Safetensors.Tensor.ofLongs(new long[0], new long[] {7}));
    }

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.3 * r.nextGaussian());
        }
        return v;
    }

    static CliTest.Result cli(String... args) {
        return CliTest.cli(args);
    }

    /** The JSON result of a --json run (its last line), after checking it ran. */
    static JsonNode json(CliTest.Result r) {
        assertEquals(0, r.code(), r.err() + r.out());
        List<String> lines = r.out().lines().toList();
        return Json.read(lines.get(lines.size() - 1), JsonNode.class);
    }

    /** The weighted layers of the init'd ARCH as the test reads them from the file (module indices 0, 2, 5, 9, 11). */
    static List<CnnLayer> netLayers() {
        SafetensorsFile f = Safetensors.read(net);
        List<CnnLayer> layers = new ArrayList<>();
        int[][] convs = {{0, 5, 1}, {2, 6, 5}, {5, 7, 6}};
        for (int[] c : convs) {
            layers.add(CnnLayer.conv(c[1], c[2], 3, 3, f.tensor("layers." + c[0] + ".weight").asFloats()));
        }
        layers.add(CnnLayer.linear(12, 7 * 7 * 7, f.tensor("layers.9.weight").asFloats()).flattenedFrom(7, 7));
        layers.add(CnnLayer.linear(10, 12, f.tensor("layers.11.weight").asFloats()));
        return layers;
    }

    /** The state_dict's layers with both BatchNorms folded (eps 1e-5, PyTorch's), read by the test. */
    static List<CnnLayer> bnLayers(boolean fold) {
        SafetensorsFile f = Safetensors.read(bnDict);
        CnnLayer c0 = CnnLayer.conv(4, 1, 3, 3, f.tensor("features.0.weight").asFloats());
        CnnLayer c1 = CnnLayer.conv(5, 4, 3, 3, f.tensor("features.3.weight").asFloats());
        if (fold) {
            c0 = c0.withBatchNorm(f.tensor("features.1.weight").asFloats(), f.tensor("features.1.running_var").asFloats(), 1e-5);
            c1 = c1.withBatchNorm(f.tensor("features.4.weight").asFloats(), f.tensor("features.4.running_var").asFloats(), 1e-5);
        }
        return List.of(c0, c1, CnnLayer.linear(10, 20, f.tensor("classifier.weight").asFloats()).flattenedFrom(2, 2));
    }

    static ClusterOptions options(int k) {
        return ClusterOptions.defaults().withK(k).withNInit(3).withSeed(4).withThreads(2).withBackend(Device.cpu(2));
    }

    @Test
    void everyNormAndEdgesOptionReachesTheGraph() {
        for (String edges : new String[] {"units", "f21"}) {
            for (String norm : new String[] {"l1", "max-col-sum", "l2"}) {
                JsonNode r = json(cli("cluster", net.toString(), "--k", "3", "--n-init", "3", "--seed", "4", "--threads", "2",
                        "--slice-norm", norm, "--edges", edges, "--json"));
                CnnUnitGraph g = CnnUnitGraph.build(netLayers(), new CnnGraphOptions(SliceNorm.parse(norm),
                        CnnGraphOptions.Edges.parse(edges)));
                double expected = SpectralClustering.cluster(g, options(3)).ncut();
                assertEquals(expected, r.get("ncut").asDouble(), 0.0, edges + " " + norm);
                assertEquals(g.network().nodes(), r.get("nodes").asInt(), edges + " " + norm);
                assertEquals(norm, r.get("cnn_graph").get("norm").asText());
                assertEquals(edges, r.get("cnn_graph").get("edges").asText());
                assertEquals(edges.equals("f21") ? 18 : 1 + 5 + 6 + 7 + 12 + 10, r.get("total_nodes").asInt());
            }
        }
        // left out: the units graph with l1 norms
        JsonNode d = json(cli("cluster", net.toString(), "--k", "3", "--n-init", "3", "--seed", "4", "--threads", "2", "--json"));
        assertEquals(SpectralClustering.cluster(CnnUnitGraph.build(netLayers(), CnnGraphOptions.defaults()), options(3)).ncut(),
                d.get("ncut").asDouble(), 0.0);
        assertEquals("input", d.get("unit_layers").get(0).get("name").asText());
        assertEquals("layers.9.weight", d.get("unit_layers").get(4).get("weight").asText());
    }

    @Test
    void everyClusteringBackendClustersACnn() {
        JsonNode cpu = json(cli("cluster", net.toString(), "--k", "3", "--n-init", "3", "--edges", "f21", "--shuffles", "2",
                "--json"));
        for (String backend : new String[] {"java", "cuda-emu"}) {
            JsonNode r = json(cli("cluster", net.toString(), "--k", "3", "--n-init", "3", "--edges", "f21", "--shuffles", "2",
                    "--backend", backend, "--json"));
            assertEquals(cpu.get("ncut").asDouble(), r.get("ncut").asDouble(), 1e-9, backend);
            assertEquals(cpu.get("shuffle").get("mean").asDouble(), r.get("shuffle").get("mean").asDouble(), 1e-9, backend);
            assertEquals(backend, r.get("provenance").get("backend").asText());
        }
    }

    @Test
    void aDenseLayerReadingAOneByOneFeatureMapReadsItsChannels() {
        Path file = tmp.resolve("pooled.safetensors"); // as VGG: the last maxpool leaves 1 x 1, flatten gives the channels
        assertEquals(0, cli("init", "--arch", "conv:3,relu,conv:4,relu,maxpool:28,flatten,linear:10", "--out", file.toString())
                .code());
        for (String norm : new String[] {"l1", "max-col-sum"}) {
            JsonNode r = json(cli("cluster", file.toString(), "--k", "2", "--n-init", "2", "--slice-norm", norm, "--json"));
            assertEquals(1 + 3 + 4 + 10, r.get("total_nodes").asInt(), norm);
        }
    }

    @Test
    void theTextOutputSaysTheLayersFirstThenTheUnitGraph() {
        CliTest.Result r = cli("cluster", net.toString(), "--k", "3", "--n-init", "2", "--edges", "f21", "--slice-norm", "max-col-sum");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("layers: layers.0.weight 5x1x3x3, layers.2.weight 6x5x3x3, layers.5.weight 7x6x3x3, layers.9.weight 12x343, "
                + "layers.11.weight 10x12", lines.get(1));
        assertEquals("unit graph (f21, max-col-sum norm): conv 0 5, conv 1 6, conv 2 7", lines.get(2));
        assertTrue(lines.get(3).startsWith("18 nodes (0 isolated dropped)"), r.out());
    }

    @Test
    void aStateDictWithBatchNormIsFoldedAndItsZeroDegreeUnitsAreReported() throws IOException {
        for (String norm : new String[] {"l1", "max-col-sum"}) {
            CliTest.Result text = cli("cluster", bnDict.toString(), "--k", "2", "--n-init", "3", "--seed", "4", "--threads", "2",
                    "--slice-norm", norm);
            assertEquals(0, text.code(), text.err());
            List<String> lines = text.out().lines().toList();
            assertEquals("layers: features.0.weight 4x1x3x3 + features.1, features.3.weight 5x4x3x3 + features.4, classifier.weight"
                    + " 10x20", lines.get(1));
            assertTrue(lines.get(2).startsWith("assumed a CNN") && lines.get(2).contains("as a 2 x 2 feature map"), lines.get(2));
            JsonNode r = json(cli("cluster", bnDict.toString(), "--k", "2", "--n-init", "3", "--seed", "4", "--threads", "2",
                    "--slice-norm", norm, "--json"));
            CnnGraphOptions o = CnnGraphOptions.defaults().withNorm(SliceNorm.parse(norm));
            double folded = SpectralClustering.cluster(CnnUnitGraph.build(bnLayers(true), o), options(2)).ncut();
            assertEquals(folded, r.get("ncut").asDouble(), 0.0, norm);
            assertNotEquals(SpectralClustering.cluster(CnnUnitGraph.build(bnLayers(false), o), options(2)).ncut(), folded,
                    "the batchnorm scales differ per channel, so folding them changes the graph");
        }
        // a conv output channel whose kernel is all zero and a classifier column block of zeros: a zero-degree unit
        SafetensorsFile f = Safetensors.read(bnDict);
        LinkedHashMap<String, Safetensors.Tensor> t = new LinkedHashMap<>(f.tensors());
        float[] w = f.tensor("features.3.weight").asFloats();
        java.util.Arrays.fill(w, 2 * 36, 3 * 36, 0f); // out-channel 2 of features.3 reads nothing
        t.put("features.3.weight", Safetensors.Tensor.ofFloats(new long[] {5, 4, 3, 3}, w));
        float[] cls = f.tensor("classifier.weight").asFloats();
        for (int j = 0; j < 10; j++) {
            java.util.Arrays.fill(cls, j * 20 + 2 * 4, j * 20 + 3 * 4, 0f); // and nothing reads it
        }
        t.put("classifier.weight", Safetensors.Tensor.ofFloats(new long[] {10, 20}, cls));
        Path dead = tmp.resolve("dead.safetensors");
        Safetensors.write(dead, t, Map.of());
        CliTest.Result r = cli("cluster", dead.toString(), "--k", "2", "--n-init", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("(1 isolated dropped)") && r.out().contains("1 unit(s) of zero or negligible degree removed: conv 1 channel 2"),
                r.out());
        JsonNode j = json(cli("cluster", dead.toString(), "--k", "2", "--n-init", "2", "--json"));
        assertEquals(2, j.get("removed_nodes").get(0).get("layer").asInt());
        assertEquals(2, j.get("removed_nodes").get(0).get("index").asInt());
        assertEquals(-1, j.get("labels").get(1 + 4 + 2).asInt());
    }

    @Test
    void theShuffleTestShufflesTheUnitMatricesAndTheRecordReadsBack() throws IOException {
        Path out = tmp.resolve("shuffle-cluster.json");
        JsonNode r = json(cli("cluster", net.toString(), "--k", "3", "--n-init", "3", "--seed", "4", "--threads", "2", "--edges",
                "f21", "--slice-norm", "max-col-sum", "--shuffles", "4", "--shuffle-method", "layer_nonzero", "--json", "--out",
                out.toString()));
        CnnUnitGraph g = CnnUnitGraph.build(netLayers(), CnnGraphOptions.f21());
        ShuffleResult s = ShuffleTest.run(g, ShuffleOptions.defaults().withShuffles(4).withMethod(ShuffleMethod.LAYER_NONZERO)
                .withCluster(options(3)), null);
        assertEquals(s.trained().ncut(), r.get("ncut").asDouble(), 0.0);
        JsonNode sh = r.get("shuffle");
        assertEquals("layer_nonzero", sh.get("method").asText());
        for (int i = 0; i < 4; i++) {
            assertEquals(s.ncuts()[i], sh.get("ncuts").get(i).asDouble(), 0.0, "shuffle " + i);
        }
        assertEquals(s.mean(), sh.get("mean").asDouble(), 0.0);
        assertEquals(s.sd(), sh.get("sd").asDouble(), 0.0);
        ClusterRun back = Results.read(out, ClusterRun.class);
        assertEquals(CnnGraphOptions.f21(), back.cnnGraph());
        assertEquals(List.of(new ClusterRun.UnitLayer("conv 0", "layers.0.weight", 5), new ClusterRun.UnitLayer("conv 1",
                "layers.2.weight", 6), new ClusterRun.UnitLayer("conv 2", "layers.5.weight", 7)), back.unitLayers());
        assertEquals(4, back.shuffle().n());
        assertTrue(back.command().startsWith("cleave cluster " + net + " --k 3 --n-init 3 --tolerance 0.000001 --shuffles 4 "
                + "--shuffle-method layer_nonzero --slice-norm max-col-sum --edges f21 --out " + out + " --seed 4"), back.command());
        // the recorded command reproduces the numbers
        String[] words = back.command().replace(" --out " + out, "").split(" ");
        JsonNode again = json(cli(concat(java.util.Arrays.copyOfRange(words, 1, words.length), "--json")));
        assertEquals(r.get("ncut").asDouble(), again.get("ncut").asDouble(), 0.0);
        assertEquals(sh.get("ncuts"), again.get("shuffle").get("ncuts"));
        // an MLP's record is written as before: no CNN fields
        JsonNode m = json(cli("cluster", mlp.toString(), "--k", "2", "--n-init", "2", "--json"));
        assertTrue(m.get("cnn_graph") == null && m.get("unit_layers") == null && !m.get("command").asText().contains("--edges"),
                m.toString());
    }

    @Test
    void coclusterOnAConvLayerCoclustersItsChannelNormMatrix() {
        JsonNode r = json(cli("cocluster", net.toString(), "--layer", "layers.2.weight", "--k", "2", "--slice-norm", "l2", "--seed",
                "6", "--threads", "2", "--json"));
        CnnLayer conv = netLayers().get(1);
        CoClusterResult expected = CoClustering.cocluster(CnnUnitGraph.channelNorms(conv, SliceNorm.L2), CoClusterOptions.defaults()
                .withK(2).withSeed(6).withThreads(2).withBackend(Device.cpu(2)));
        JsonNode clusters = r.get("clusters").get(0);
        assertEquals(2, clusters.get("layer").asInt(), "the conv's index N of layers.N.weight, as modular training and circuits"
                + " number a network's layers");
        int[] rows = Json.mapper().convertValue(clusters.get("row_labels"), int[].class);
        int[] cols = Json.mapper().convertValue(clusters.get("col_labels"), int[].class);
        assertArrayEquals(expected.rowLabels(), rows);
        assertArrayEquals(expected.columnLabels(), cols);
        assertEquals(6, rows.length);
        assertEquals(5, cols.length);
        double c;
        try (Enmeshment e = new Enmeshment(6, 5, 9, 2, rows, cols)) {
            c = e.forward(new dev.cleave.util.FloatMatrix(6, 45, conv.weight()));
        }
        assertEquals(c, r.get("layers").get(0).get("c").asDouble(), 1e-12);
        assertEquals(Enmeshment.reference(toDouble(conv.weight()), 6, 5, 9, rows, cols, 2, 0.0, null), c, 1e-6);
        assertEquals("l2", r.get("slice_norm").asText());
        assertTrue(r.get("command").asText().contains("--layers layers.2.weight") && r.get("command").asText().contains(
                "--slice-norm l2"), r.get("command").asText());
        // the default: the hidden-to-hidden layers (two convs and the first dense layer, on its channel blocks)
        CliTest.Result text = cli("cocluster", net.toString(), "--k", "2", "--n-init", "3");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("layers.2.weight: C = ") && text.out().contains("layers.5.weight: C = ")
                && text.out().contains("layers.9.weight: C = ") && !text.out().contains("layers.0.weight: C"), text.out());
        assertTrue(text.out().contains("co-clustering each layer's channel-norm matrix (l1 norm"), text.out());
        JsonNode dense = json(cli("cocluster", net.toString(), "--layers", "9", "--k", "2", "--n-init", "3", "--json"));
        assertEquals(7, dense.get("clusters").get(0).get("col_labels").size(), "the first dense layer reads 7 channels");
        assertEquals("layers.9.weight", dense.get("layers").get(0).get("name").asText());
        // a state_dict whose names are not an nn.Sequential's: layers are counted along the chain
        JsonNode named = json(cli("cocluster", bnDict.toString(), "--layer", "features.3", "--k", "2", "--n-init", "3", "--json"));
        assertEquals(1, named.get("clusters").get(0).get("layer").asInt());
        assertEquals("features.3.weight", named.get("layers").get(0).get("name").asText());
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void badCnnOptionsAreOneLineErrors() {
        GraphOptionsCliTest.assertOneLineError(cli("cluster", oneConv.toString(), "--edges", "f21"), "at least two conv");
        GraphOptionsCliTest.assertOneLineError(cli("cluster", net.toString(), "--slice-norm", "l3"),
                "--slice-norm must be l1, max-col-sum or l2, got 'l3'");
        GraphOptionsCliTest.assertOneLineError(cli("cluster", net.toString(), "--edges", "all"),
                "--edges must be units or f21, got 'all'");
        GraphOptionsCliTest.assertOneLineError(cli("cluster", mlp.toString(), "--slice-norm", "l1"), "is an MLP", "drop them");
        GraphOptionsCliTest.assertOneLineError(cli("cluster", mlp.toString(), "--edges", "f21", "--shuffles", "2"), "is an MLP");
        GraphOptionsCliTest.assertOneLineError(cli("cocluster", mlp.toString(), "--slice-norm", "l2", "--layers", "all"), "is an MLP");
        GraphOptionsCliTest.assertOneLineError(cli("cocluster", net.toString(), "--slice-norm", "max", "--layers", "1"),
                "--slice-norm must be");
        GraphOptionsCliTest.assertOneLineError(cli("cocluster", net.toString(), "--layers", "layers.1.weight"), "--layers");
        GraphOptionsCliTest.assertOneLineError(cli("cocluster", net.toString(), "--layers", "0", "--k", "2"), "--k 2", "use --k 1");
        GraphOptionsCliTest.assertOneLineError(cli("cocluster", net.toString(), "--layers", "2,3", "--k", "2"),
                "3 is not a weighted layer", "0,2,5,9,11");
        Path mtx = tmp.resolve("g.mtx");
        try {
            Files.writeString(mtx, "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n2 1 1.0\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        GraphOptionsCliTest.assertOneLineError(cli("cluster", "--graph", mtx.toString(), "--slice-norm", "l1"), "--slice-norm",
                "--graph");
    }

    @Test
    void theReportShowsACnnClusterRun() throws IOException {
        Path data = CliTest.writeDataSet(tmp.resolve("idx"), 200, 60);
        Path run = tmp.resolve("cnn-run");
        CliTest.Result t = cli("train", "--arch", "conv:4,relu,conv:4,relu,maxpool,flatten,linear:10", "--dataset", "mnist-idx",
                "--data-dir", data.toString(), "--epochs", "1", "--batch-size", "25", "--threads", "2", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        Path model = run.resolve("model.safetensors");
        assertEquals(0, cli("cluster", model.toString(), "--k", "2", "--n-init", "2", "--shuffles", "3", "--edges", "f21",
                "--out", run.resolve("cluster.json").toString()).code());
        assertEquals(0, cli("cocluster", model.toString(), "--layers", "2", "--k", "2", "--n-init", "2", "--out",
                run.resolve("cocluster.json").toString()).code());
        Path html = tmp.resolve("cnn-report.html");
        CliTest.Result rep = cli("report", run.toString(), "--out", html.toString());
        assertEquals(0, rep.code(), rep.err());
        String page = Files.readString(html);
        assertTrue(page.contains("CNN unit graph by cluster") && page.contains("f21 graph, l1 norm, k = 2"), "unit graph section");
        assertTrue(page.contains("conv 1 (4) x conv 0 (4)"), "the one conv-to-conv matrix of the F21 graph");
        assertTrue(page.contains("<h3>layers.2.weight</h3>") && page.contains("channel norms"), "the co-clustered conv layer");
        assertTrue(page.contains("layers.2 ") && page.contains("(co-clusters)"), "C of the co-clustered conv in the key numbers");
        assertTrue(page.contains("(layer shuffles)"), "the shuffle histogram");
        assertTrue(page.contains("cleave cluster " + model + " --k 2") && page.contains("--edges f21"), "the command");
        long images = page.split("<img ", -1).length - 1;
        // loss, accuracy; one co-clustered matrix; one unit-graph matrix; the spectrum; the shuffle histogram
        assertEquals(2 + 1 + 1 + 1 + 1, images, "plots in the report");
        ClusterRun c = Results.read(run.resolve("cluster.json"), ClusterRun.class);
        assertEquals(CnnGraphOptions.Edges.F21, c.cnnGraph().edges());
        CoclusterRun co = Results.read(run.resolve("cocluster.json"), CoclusterRun.class);
        assertEquals(SliceNorm.L1, co.sliceNorm());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
