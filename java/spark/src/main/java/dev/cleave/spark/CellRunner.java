package dev.cleave.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.cluster.ClusterResult;
import dev.cleave.cluster.ShuffleOptions;
import dev.cleave.cluster.ShuffleResult;
import dev.cleave.cluster.ShuffleTest;
import dev.cleave.cluster.SpectralClustering;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Backends;
import dev.cleave.nn.Mlp;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Runs one cell of a sweep: trains the variant with the cell's seed into an ordinary run folder
 * (config.json, model.safetensors, metrics.jsonl, checkpoint), keeps the network as it was after
 * the training epochs (before pruning) as model-unpruned.safetensors, clusters and shuffle-tests
 * each measured phase (cluster-unpruned.json; cluster.json for the final model, the file
 * `cleave report` reads) and last writes cell.json, the cell's table row. A folder without
 * cell.json is incomplete and is cleared and run again from the start (same seed, same result).
 * All the library calls of a cell are here, so this is the one class to change when the
 * training pipeline changes.
 */
public final class CellRunner {
    public static final String CELL_FILE = "cell.json";
    public static final String UNPRUNED_MODEL = "model-unpruned.safetensors";
    public static final String UNPRUNED_CLUSTER = "cluster-unpruned.json";
    public static final String CLUSTER = "cluster.json";

    /** Data sets loaded by this JVM (an executor runs many cells on the same data). */
    private static final Map<String, DatasetSplit> DATA = new ConcurrentHashMap<>();

    private CellRunner() {}

    /** The folder of {@code cell} under the sweep folder. */
    public static Path folder(Path sweepDir, SweepSpec.Cell cell) {
        return sweepDir.resolve("cells").resolve(cell.folder());
    }

    /** What a cell's results depend on: its training config and the measurements (compared before skipping it). */
    public static String fingerprint(SweepSpec spec, SweepSpec.Cell cell) {
        ObjectNode f = Json.mapper().createObjectNode();
        f.set("config", Json.mapper().valueToTree(spec.variant(cell.variant()).config(cell.seed(), spec.threadsPerCell())));
        f.set("measure", Json.mapper().valueToTree(spec.measure()));
        return Json.write(f);
    }

    /** The finished cell's row, or null when the cell has not finished. */
    public static JsonNode finished(Path sweepDir, SweepSpec.Cell cell) {
        Path file = folder(sweepDir, cell).resolve(CELL_FILE);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return Json.mapper().readTree(Files.readString(file));
        } catch (IOException e) {
            return null; // unreadable: run it again
        }
    }

    /** Runs {@code cell} (or returns its row when it already finished) and returns its row as JSON. */
    public static String run(SweepSpec spec, Path sweepDir, SweepSpec.Cell cell) {
        JsonNode done = finished(sweepDir, cell);
        String fp = fingerprint(spec, cell);
        if (done != null && fp.equals(done.path("fingerprint").asText())) {
            return Json.write(done);
        }
        Path dir = folder(sweepDir, cell);
        try {
            clear(dir);
            int threads = spec.threadsPerCell();
            TrainConfig config = spec.variant(cell.variant()).config(cell.seed(), threads);
            RunDir run = RunDir.create(dir, config);
            DatasetSplit data = DATA.computeIfAbsent(config.dataset() + "|" + config.dataDir(), k -> Datasets.load(
                    config.dataset(), config.dataDir() == null ? null : Path.of(config.dataDir()), false, null));
            double unprunedAccuracy = Double.NaN;
            double finalAccuracy = Double.NaN;
            long t0 = System.nanoTime();
            try (Backend backend = Backends.create(config.backend(), threads, msg -> {});
                    Mlp model = Trainer.initialModel(config, backend);
                    Trainer trainer = new Trainer(config, backend, model)) {
                while (trainer.epochsDone() < config.totalEpochs()) {
                    EpochMetrics m = trainer.runEpoch(data.train(), data.test(), ProgressListener.NONE);
                    run.saveEpoch(trainer, config, m);
                    finalAccuracy = m.testAccuracy();
                    if (trainer.epochsDone() == config.epochs()) {
                        unprunedAccuracy = m.testAccuracy();
                        if (config.prune() != null) {
                            try (Mlp exported = trainer.exportModel()) {
                                ModelFile.save(dir.resolve(UNPRUNED_MODEL), exported, config,
                                        Map.of("epochs_done", String.valueOf(trainer.epochsDone()), "phase", "unpruned"));
                            }
                        }
                    }
                }
            }
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            SweepSpec.Measure measure = spec.measure();
            ClusterOptions co = ClusterOptions.defaults().withK(measure.k()).withNInit(measure.nInit()).withSeed(cell.seed())
                    .withThreads(threads);
            ObjectNode row = Json.mapper().createObjectNode();
            row.put("variant", cell.variant());
            row.put("seed", cell.seed());
            row.put("folder", cell.folder());
            row.put("fingerprint", fp);
            row.put("train_seconds", trainSeconds);
            if (measure.unpruned()) {
                Path modelFile = config.prune() != null ? dir.resolve(UNPRUNED_MODEL) : run.model();
                Path out = config.prune() != null ? dir.resolve(UNPRUNED_CLUSTER) : dir.resolve(CLUSTER);
                row.set("unpruned", measure(modelFile, co, measure, unprunedAccuracy, out));
            }
            if (measure.pruned()) {
                row.set("pruned", measure(run.model(), co, measure, finalAccuracy, dir.resolve(CLUSTER)));
            }
            AtomicFiles.writeString(dir.resolve(CELL_FILE), Json.writePretty(row) + "\n");
            return Json.write(row);
        } catch (IOException e) {
            throw new UncheckedIOException("cell " + cell.folder() + ": " + e.getMessage(), e);
        }
    }

    /** Clusters (and shuffle-tests) one model file, writes its cluster JSON to {@code out}, returns the phase's numbers. */
    private static ObjectNode measure(Path modelFile, ClusterOptions co, SweepSpec.Measure measure, double accuracy, Path out)
            throws IOException {
        List<FloatMatrix> weights;
        try (ModelFile.Loaded loaded = ModelFile.load(modelFile)) {
            weights = loaded.model().weightMatrices();
        }
        ObjectNode phase = Json.mapper().createObjectNode();
        phase.put("accuracy", accuracy);
        ObjectNode file;
        if (measure.shuffles() > 0) {
            ShuffleResult s = ShuffleTest.run(weights, ShuffleOptions.defaults().withMethod(measure.method())
                    .withShuffles(measure.shuffles()).withCluster(co));
            file = clusterJson(s, modelFile);
            phase.put("ncut", s.trainedNcut());
            phase.put("shuffled_mean", s.mean());
            phase.put("shuffled_sd", s.sd());
            if (s.z() == null) {
                phase.putNull("z");
            } else {
                phase.put("z", s.z());
            }
            phase.put("p", s.p());
        } else {
            ClusterResult r = SpectralClustering.cluster(weights, co);
            file = Json.mapper().valueToTree(r);
            file.put("model", modelFile.toString());
            phase.put("ncut", r.ncut());
        }
        AtomicFiles.writeString(out, Json.writePretty(file) + "\n");
        return phase;
    }

    /** The JSON `cleave cluster MODEL --shuffles N --out FILE` writes for a shuffle test. */
    static ObjectNode clusterJson(ShuffleResult s, Path modelFile) {
        ObjectNode node = Json.mapper().valueToTree(s.trained());
        ObjectNode sh = node.putObject("shuffle");
        sh.put("method", s.method().toString());
        sh.put("n", s.n());
        sh.put("mean", s.mean());
        sh.put("sd", s.sd());
        if (s.z() == null) {
            sh.putNull("z");
        } else {
            sh.put("z", s.z());
        }
        sh.put("p", s.p());
        sh.put("lower", s.lower());
        sh.put("seconds", s.seconds());
        sh.set("ncuts", Json.mapper().valueToTree(s.ncuts()));
        if (modelFile != null) {
            node.put("model", modelFile.toString());
        }
        return node;
    }

    private static void clear(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}
