package dev.cleave.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.DistributedShuffles;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.data.Idx;
import dev.cleave.io.Json;
import dev.cleave.pipeline.ClusterModelRequest;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.Pipeline;
import dev.cleave.pipeline.Results;
import dev.cleave.report.Report;
import dev.cleave.util.ProgressListener;
import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweeps on an embedded local[2] Spark (one session for the class: Spark's start-up is paid once). */
class SweepTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;
    static Path data;

    @BeforeAll
    static void start() throws IOException {
        data = tmp.resolve("data");
        Files.createDirectories(data);
        writeSet(data.resolve("train-images-idx3-ubyte"), data.resolve("train-labels-idx1-ubyte"), 1, 240);
        writeSet(data.resolve("t10k-images-idx3-ubyte"), data.resolve("t10k-labels-idx1-ubyte"), 2, 60);
        spark = Sparks.session(Sparks.master("local[2]"), "cleave sweep test", 1);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** 8 x 8 images whose label is the brightest quadrant-row band, so a small MLP learns something. */
    private static void writeSet(Path images, Path labels, long seed, int count) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        float[] px = new float[count * 64];
        int[] ys = new int[count];
        for (int i = 0; i < count; i++) {
            ys[i] = r.nextInt(10);
            for (int p = 0; p < 64; p++) {
                px[i * 64 + p] = (float) (r.nextDouble() * 0.3 + (p % 10 == ys[i] ? 0.7 : 0.0));
            }
        }
        Idx.writeImages(images, new Idx.Images(count, 8, 8, px), false);
        Idx.writeLabels(labels, ys, false);
    }

    private static String tinySpec() {
        return """
                {"name": "tiny",
                 "base": {"dataset": "mnist-idx", "data_dir": "%s", "layers": [64, 16, 10], "epochs": 1, "prune_epochs": 1,
                          "batch_size": 32},
                 "variants": [{"name": "control"}, {"name": "l1", "l1": 1e-3}],
                 "seeds": [0, 1],
                 "measure": {"k": 3, "n_init": 3, "shuffles": 3, "method": "layer"},
                 "published": {"control": {"pruned": {"ncut": 1.0, "z": -1.0}}}}
                """.formatted(data.toString().replace("\\", "\\\\"));
    }

    private static Sweep.Outcome reference;
    private static String referenceTable;

    /** The tiny sweep run once, uninterrupted, in tmp/sweep (its results.csv is the table the other runs must give). */
    private static synchronized Sweep.Outcome reference() throws IOException {
        if (reference == null) {
            reference = Sweep.run(spark, SweepSpec.parse(tinySpec(), "tiny"), tmp.resolve("sweep"));
            referenceTable = Files.readString(tmp.resolve("sweep").resolve("results.csv"));
        }
        return reference;
    }

    /** The most cells that ran at the same moment, from the started and finished times the cells record. */
    private static int mostAtOnce(List<JsonNode> rows) {
        int most = 0;
        for (JsonNode r : rows) {
            Instant t = Instant.parse(r.get("started").asText());
            int at = 0;
            for (JsonNode o : rows) {
                if (!Instant.parse(o.get("started").asText()).isAfter(t) && Instant.parse(o.get("finished").asText()).isAfter(t)) {
                    at++;
                }
            }
            most = Math.max(most, at);
        }
        return most;
    }

    @Test
    void tinySweepWritesRunFoldersAndTablesAndReruns() throws IOException {
        SweepSpec spec = SweepSpec.parse(tinySpec(), "tiny");
        Path dir = tmp.resolve("sweep");
        Sweep.Outcome first = reference();
        assertEquals(4, first.cells());
        assertEquals(4, first.ran());
        // local[2] with one thread per cell: at most two cells at once, each training and clustering on one thread
        int most = mostAtOnce(first.rows());
        assertTrue(most >= 1 && most <= 2, "cells at once: " + most);
        for (SweepSpec.Cell c : spec.cells()) {
            try (RunDir run = RunDir.forReading(CellRunner.folder(dir, c))) {
                assertEquals(1, run.readConfig().threads());
            }
        }
        List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(5, csv.size());
        assertTrue(csv.get(0).startsWith("variant,seed,folder,unpruned_accuracy,unpruned_ncut"));
        for (SweepSpec.Cell c : spec.cells()) {
            Path cell = CellRunner.folder(dir, c);
            for (String f : List.of(RunDir.CONFIG, RunDir.MODEL, RunDir.METRICS, CellRunner.UNPRUNED_MODEL, Results.CLUSTER_FILE,
                    CellRunner.UNPRUNED_CLUSTER, CellRunner.CELL_FILE)) {
                assertTrue(Files.isRegularFile(cell.resolve(f)), c.folder() + " lacks " + f);
            }
            assertEquals(2, Files.readAllLines(cell.resolve(RunDir.METRICS)).size());
            JsonNode row = CellRunner.finished(dir, c);
            for (String phase : Sweep.PHASES) {
                JsonNode p = row.get(phase);
                double z = (p.get("ncut").asDouble() - p.get("shuffled_mean").asDouble()) / p.get("shuffled_sd").asDouble();
                assertEquals(z, p.get("z").asDouble(), 1e-9);
                assertTrue(p.get("ncut").asDouble() > 0 && p.get("ncut").asDouble() < 3);
                assertTrue(p.get("accuracy").asDouble() >= 0 && p.get("accuracy").asDouble() <= 1);
            }
            // the pruned phase measures the final model: recompute its shuffle test from the file
            List<FloatMatrix> w;
            try (ModelFile.Loaded m = ModelFile.load(cell.resolve(RunDir.MODEL))) {
                w = m.model().weightMatrices();
            }
            ShuffleResult again = ShuffleTest.run(w, ShuffleOptions.defaults().withShuffles(3).withMethod(ShuffleMethod.LAYER)
                    .withCluster(ClusterOptions.defaults().withK(3).withNInit(3).withSeed(c.seed()).withThreads(1)));
            assertEquals(again.trainedNcut(), row.get("pruned").get("ncut").asDouble(), 0.0);
            assertEquals(again.mean(), row.get("pruned").get("shuffled_mean").asDouble(), 0.0);
        }
        // the pruned model is sparser than the unpruned one kept beside it
        Path c0 = CellRunner.folder(dir, spec.cells().get(0));
        assertTrue(zeros(c0.resolve(RunDir.MODEL)) > zeros(c0.resolve(CellRunner.UNPRUNED_MODEL)));
        // aggregate = mean over seeds of the rows
        JsonNode sweep = Json.mapper().readTree(Files.readString(dir.resolve(Sweep.SWEEP_FILE)));
        JsonNode agg = sweep.get("aggregate").get(0);
        assertEquals("control", agg.get("variant").asText());
        assertEquals("unpruned", agg.get("phase").asText());
        double mean = (CellRunner.finished(dir, spec.cells().get(0)).get("unpruned").get("ncut").asDouble()
                + CellRunner.finished(dir, spec.cells().get(1)).get("unpruned").get("ncut").asDouble()) / 2;
        assertEquals(mean, agg.get("ncut").asDouble(), 1e-12);
        List<Row> parquet = spark.read().parquet(dir.resolve("results.parquet").toString()).orderBy("variant", "seed")
                .collectAsList();
        assertEquals(4, parquet.size());
        assertEquals(CellRunner.finished(dir, spec.cells().get(0)).get("pruned").get("z").asDouble(),
                parquet.get(0).getDouble(parquet.get(0).fieldIndex("pruned_z")), 0.0);
        assertEquals(4, spark.read().parquet(dir.resolve("aggregate.parquet").toString()).count());

        // cleave report DIR: the aggregate beside the published numbers, and the n-cut charts
        Path html = tmp.resolve("sweep.html");
        Report.write(List.of(dir), html);
        String page = Files.readString(html);
        assertTrue(page.contains("<h1>Sweep tiny</h1>"), page);
        assertTrue(page.contains("<td>1.000, - &plusmn; -, -1.00, -</td>"), "published control/pruned");
        JsonNode controlPruned = sweep.get("aggregate").get(1);
        assertEquals("pruned", controlPruned.get("phase").asText());
        assertTrue(page.contains(String.format(java.util.Locale.ROOT, "%+.3f", controlPruned.get("ncut").asDouble() - 1.0)));
        assertTrue(page.contains("<img alt=\"n-cut unpruned\" src=\"data:image/png;base64,"));
        assertTrue(page.contains("<img alt=\"n-cut pruned\" src=\"data:image/png;base64,"));
        assertFalse(page.contains("http://") || page.contains("https://"));

        String table = Files.readString(dir.resolve("results.csv"));
        Sweep.Outcome rerun = Sweep.run(spark, spec, dir);
        assertEquals(0, rerun.ran());
        assertEquals(4, rerun.skipped());
        assertEquals(table, Files.readString(dir.resolve("results.csv")));

        // a sweep killed mid-way: one cell stopped during training, one never started
        Path killed = CellRunner.folder(dir, spec.cells().get(1));
        Files.delete(killed.resolve(CellRunner.CELL_FILE));
        Files.delete(killed.resolve(Results.CLUSTER_FILE));
        Files.writeString(killed.resolve(RunDir.METRICS), "{\"truncated\n");
        Path never = CellRunner.folder(dir, spec.cells().get(2));
        try (var files = Files.walk(never)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Sweep.Outcome resumed = Sweep.run(spark, spec, dir);
        assertEquals(2, resumed.ran());
        assertEquals(table, Files.readString(dir.resolve("results.csv")));
        assertEquals(Files.readString(dir.resolve("table.md")), Sweep.markdown(spec, Sweep.aggregate(spec, resumed.rows())));
    }

    /**
     * A sweep in a child JVM, killed (SIGKILL) once its first cell has finished and while the
     * next one runs, then rerun here: only the missing cells run and the table is the
     * uninterrupted sweep's.
     */
    @Test
    void sweepKilledMidWayAndRerunGivesTheSameTable() throws Exception {
        reference();
        Path specFile = tmp.resolve("tiny.json");
        Files.writeString(specFile, tinySpec());
        Path dir = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib") && !a.startsWith("-javaagent")).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SweepMain.class.getName(), specFile.toString(), "--out",
                dir.toString(), "--master", "local[1]"));
        Path log = tmp.resolve("killed.log");
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        SweepSpec spec = SweepSpec.parse(tinySpec(), "tiny");
        long deadline = System.nanoTime() + 300_000_000_000L; // generous: the child starts Spark on a busy machine
        try {
            while (finishedCells(spec, dir) == 0) {
                assertTrue(child.isAlive(), () -> "the child sweep ended before its first cell: " + read(log));
                assertTrue(System.nanoTime() < deadline, "no cell finished in 300 s");
                Thread.sleep(20);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor();
        }
        int done = finishedCells(spec, dir);
        assertTrue(done >= 1 && done < 4, "cells finished when killed: " + done);
        assertFalse(Files.exists(dir.resolve("results.csv")));
        Sweep.Outcome rerun = Sweep.run(spark, spec, dir);
        assertEquals(4 - done, rerun.ran());
        assertEquals(done, rerun.skipped());
        assertEquals(referenceTable, Files.readString(dir.resolve("results.csv")));
        assertEquals(Files.readString(tmp.resolve("sweep").resolve("table.md")), Files.readString(dir.resolve("table.md")));
    }

    private static int finishedCells(SweepSpec spec, Path dir) {
        return (int) spec.cells().stream().filter(c -> CellRunner.finished(dir, c) != null).count();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static long zeros(Path model) {
        try (ModelFile.Loaded m = ModelFile.load(model)) {
            long n = 0;
            for (FloatMatrix w : m.model().weightMatrices()) {
                for (float v : w.data()) {
                    n += v == 0f ? 1 : 0;
                }
            }
            return n;
        }
    }

    @Test
    void distributedShuffleTestEqualsLocal() {
        SplittableRandom r = new SplittableRandom(7);
        List<FloatMatrix> w = List.of(random(r, 12, 20), random(r, 8, 12), random(r, 4, 8));
        ShuffleOptions o = ShuffleOptions.defaults().withShuffles(6)
                .withCluster(ClusterOptions.defaults().withK(3).withNInit(4).withSeed(11).withThreads(2));
        ShuffleResult local = ShuffleTest.run(w, o);
        ShuffleResult spread = SparkShuffles.run(spark, w, o);
        assertArrayEquals(local.ncuts(), spread.ncuts());
        assertEquals(local.trainedNcut(), spread.trainedNcut(), 0.0);
        assertEquals(local.mean(), spread.mean(), 0.0);
        assertEquals(local.sd(), spread.sd(), 0.0);
        assertEquals(local.z(), spread.z());
        assertEquals(local.p(), spread.p(), 0.0);
        assertInstanceOf(SparkShuffles.class, DistributedShuffles.load());
    }

    /** cleave cluster MODEL --shuffles N --spark: the pipeline's record with the shuffles on Spark equals the local one. */
    @Test
    void clusterModelWithSparkShufflesEqualsLocal() throws IOException {
        reference();
        Path model = CellRunner.folder(tmp.resolve("sweep"), SweepSpec.parse(tinySpec(), "tiny").cells().get(0)).resolve(RunDir.MODEL);
        ClusterModelRequest request = new ClusterModelRequest(model, ClusterOptions.defaults().withK(3).withNInit(3).withSeed(5)
                .withThreads(1), 5, ShuffleMethod.LAYER, null);
        ClusterRun local = Pipeline.clusterModel(request, ProgressListener.NONE);
        ClusterRun spread = Pipeline.clusterModel(request, ProgressListener.NONE, (w, o, p) -> SparkShuffles.run(spark, w, o));
        assertArrayEquals(local.shuffle().ncuts(), spread.shuffle().ncuts());
        assertEquals(local.result().ncut(), spread.result().ncut(), 0.0);
        assertEquals(local.shuffle().z(), spread.shuffle().z());
        assertEquals(local.provenance(), spread.provenance());
    }

    private static FloatMatrix random(SplittableRandom r, int rows, int cols) {
        float[] d = new float[rows * cols];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (r.nextGaussian() * (i % 5 == 0 ? 2 : 0.3));
        }
        return new FloatMatrix(rows, cols, d);
    }

    @Test
    void badSpecsNameTheField() throws IOException {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse(
                tinySpec().replace("\"l1\": 1e-3", "\"dropout\": 1.5"), "s.json"));
        assertTrue(e.getMessage().startsWith("s.json: variants[1]: dropout must be in [0, 1)"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse(tinySpec().replace("\"l1\": 1e-3", "\"l3\": 1"), "s.json"));
        assertTrue(e.getMessage().startsWith("s.json: variants[1].l3: unknown train option"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse(tinySpec().replace("\"l1\": 1e-3",
                "\"l1\": 1e-3, \"l1_layers\": \"last\""), "s.json"));
        assertTrue(e.getMessage().startsWith("s.json: variants[1]: l1_layers must be all, first, hidden or a comma list"),
                e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse(tinySpec().replace("[0, 1]", "[0, \"x\"]"), "s.json"));
        assertEquals("s.json: seeds[1]: must be an integer, got \"x\"", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse(tinySpec().replace("\"k\": 3", "\"k\": 1"), "s.json"));
        assertTrue(e.getMessage().startsWith("s.json: measure.k: must be an integer in [2, 10000], got 1"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse(tinySpec().replace(", \"prune_epochs\": 1", ""),
                "s.json"));
        assertTrue(e.getMessage().startsWith("s.json: published.control.pruned: no pruned phase is measured"), e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> SweepSpec.parse("{\"variants\": [", "s.json"));
        assertTrue(e.getMessage().startsWith("s.json: not valid JSON"), e.getMessage());
        // through the command: exit 2, one line naming the file and the field
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, tinySpec().replace("\"shuffles\": 3", "\"shuffles\": \"many\""));
        java.io.StringWriter badErr = new java.io.StringWriter();
        assertEquals(2, SweepMain.run(new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(badErr, true),
                bad.toString(), "--out", tmp.resolve("y").toString()));
        assertEquals("cleave sweep: error: " + bad + ": measure.shuffles: must be an integer in [0, 100000], got \"many\"",
                badErr.toString().strip());
        assertFalse(Files.exists(tmp.resolve("y")));
        java.io.StringWriter err = new java.io.StringWriter();
        assertEquals(2, SweepMain.run(new java.io.PrintWriter(new java.io.StringWriter()), new java.io.PrintWriter(err, true),
                "/nonexistent/spec.json", "--out", tmp.resolve("x").toString()));
        assertEquals("cleave sweep: error: SPEC '/nonexistent/spec.json' is neither a preset (f21-fashion-mlp) nor a readable file",
                err.toString().strip());
        assertFalse(Files.exists(tmp.resolve("x")));
    }

    /** A finished cell is matched by what its config means, so fields added to the config since it ran do not refuse it. */
    @Test
    void finishedCellsMatchByTheirConfigsMeaning() throws IOException {
        SweepSpec spec = SweepSpec.parse(tinySpec(), "tiny");
        SweepSpec.Cell c = spec.cells().get(0), other = spec.cells().get(1);
        com.fasterxml.jackson.databind.node.ObjectNode fp = (com.fasterxml.jackson.databind.node.ObjectNode) Json.mapper()
                .readTree(CellRunner.fingerprint(spec, c));
        com.fasterxml.jackson.databind.node.ObjectNode row = Json.mapper().createObjectNode();
        row.put("fingerprint", Json.write(fp));
        assertTrue(CellRunner.madeBy(spec, c, row));
        assertFalse(CellRunner.madeBy(spec, other, row), "another seed");
        // a config written before arch and input_shape existed
        ((com.fasterxml.jackson.databind.node.ObjectNode) fp.get("config")).remove(List.of("arch", "input_shape"));
        row.put("fingerprint", Json.write(fp));
        assertTrue(CellRunner.madeBy(spec, c, row), row.toString());
        ((com.fasterxml.jackson.databind.node.ObjectNode) fp.get("measure")).put("shuffles", 99);
        row.put("fingerprint", Json.write(fp));
        assertFalse(CellRunner.madeBy(spec, c, row), "other measurements");
        row.put("fingerprint", "{not json");
        assertFalse(CellRunner.madeBy(spec, c, row));
    }

    @Test
    void presetParsesAndLocalMastersRetry() {
        SweepSpec f21 = SweepSpec.load("f21-fashion-mlp");
        assertEquals(25, f21.cells().size());
        assertEquals(40, f21.variant("L1 5e-5").config(3, 1).totalEpochs());
        assertEquals(5e-5f, f21.variant("L1 5e-5").config(3, 1).l1());
        // the L2 variant follows F21's code: L1 on the first layer, L2 on the others
        dev.cleave.train.TrainConfig l2 = f21.variant("L2 5e-5").config(3, 1);
        assertArrayEquals(new float[] {0f, 5e-5f, 5e-5f, 5e-5f, 5e-5f}, l2.l2PerLayer(5));
        assertArrayEquals(new float[] {5e-5f, 0f, 0f, 0f, 0f}, l2.l1PerLayer(5));
        assertArrayEquals(new float[] {5e-5f, 5e-5f, 5e-5f, 5e-5f, 5e-5f}, f21.variant("L1 5e-5").config(3, 1).l1PerLayer(5));
        assertEquals(-81.1, f21.published().get("clusterable init").get("pruned").z());
        assertEquals("local[2,4]", Sparks.master("local[2]"));
        assertEquals("spark://h:7077", Sparks.master("spark://h:7077"));
        assertEquals(2, Sparks.localCores("local[2,4]"));
        // a cell's threads never exceed the cores Spark was given, and the session schedules by them
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Sparks.session("local[2,4]", "x", 3));
        assertTrue(e.getMessage().startsWith("each task needs 3 threads but local[2,4] gives Spark only 2 cores"), e.getMessage());
        assertEquals(1, spark.sparkContext().getConf().getInt("spark.task.cpus", 0));
        SweepSpec twoThreads = SweepSpec.parse(tinySpec().replace("\"seeds\"", "\"threads_per_cell\": 2, \"seeds\""), "t");
        assertThrows(IllegalArgumentException.class, () -> Sweep.run(spark, twoThreads, tmp.resolve("two")));
    }
}
