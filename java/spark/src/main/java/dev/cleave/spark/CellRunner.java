package dev.cleave.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.cluster.ClusterOptions;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.pipeline.ClusterModelRequest;
import dev.cleave.pipeline.ClusterRun;
import dev.cleave.pipeline.Pipeline;
import dev.cleave.pipeline.Results;
import dev.cleave.pipeline.ShuffleSummary;
import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Runs one cell of a sweep: trains the variant with the cell's seed into an ordinary run folder
 * (config.json, model.safetensors, metrics.jsonl, checkpoint), keeps the network as it was after
 * the training epochs (before pruning) as model-unpruned.safetensors, clusters and shuffle-tests
 * each measured phase through the pipeline (cluster-unpruned.json; cluster.json for the final
 * model, the file `cleave report` reads, both written by {@link Results}) and last writes cell.json, the cell's table row. A folder without
 * cell.json is incomplete and is cleared and run again from the start (same seed, same result).
 * All the library calls of a cell are here, so this is the one class to change when the
 * training pipeline changes.
 */
public final class CellRunner {
    public static final String CELL_FILE = "cell.json";
    public static final String UNPRUNED_MODEL = "model-unpruned.safetensors";
    public static final String UNPRUNED_CLUSTER = "cluster-unpruned.json";

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

    /**
     * Whether the finished row {@code done} was made by {@code spec}'s settings for {@code cell}:
     * its recorded config read back equals the cell's (so a config written before a field was
     * added, which reads back with that field's default, still matches) and so do the
     * measurements.
     */
    public static boolean madeBy(SweepSpec spec, SweepSpec.Cell cell, JsonNode done) {
        try {
            JsonNode recorded = Json.mapper().readTree(done.path("fingerprint").asText());
            JsonNode now = Json.mapper().readTree(fingerprint(spec, cell));
            TrainConfig then = Json.mapper().treeToValue(recorded.path("config"), TrainConfig.class);
            return then.equals(Json.mapper().treeToValue(now.path("config"), TrainConfig.class))
                    && recorded.path("measure").equals(now.path("measure"));
        } catch (IOException | RuntimeException e) {
            return false; // unreadable or no longer a valid config: not this spec's
        }
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
        if (done != null && madeBy(spec, cell, done)) {
            return Json.write(done);
        }
        Path dir = folder(sweepDir, cell);
        try {
            clear(dir);
            int threads = spec.threadsPerCell();
            TrainConfig config = spec.variant(cell.variant()).config(cell.seed(), threads);
            Device device = Device.of(config.backend(), threads, msg -> {});
            DatasetSplit data = DATA.computeIfAbsent(config.dataset() + "|" + config.dataDir(), k -> Datasets.load(
                    config.dataset(), config.dataDir() == null ? null : Path.of(config.dataDir()), null));
            double[] accuracy = {Double.NaN, Double.NaN}; // after the training epochs, after the last epoch
            Instant started = Instant.now();
            long t0 = System.nanoTime();
            Path modelFile;
            // the same steps as cleave train: RunDir.create, then RunDir.trainToEnd saving every epoch
            try (RunDir run = RunDir.create(dir, config); Backend backend = device.open();
                    Mlp model = Trainer.initialModel(config, backend); Trainer trainer = new Trainer(config, backend, model)) {
                run.trainToEnd(trainer, config, data, ProgressListener.NONE, m -> {
                    accuracy[1] = m.testAccuracy();
                    if (trainer.epochsDone() == config.epochs()) {
                        accuracy[0] = m.testAccuracy();
                        if (config.prune() != null) {
                            saveUnpruned(dir.resolve(UNPRUNED_MODEL), trainer, config);
                        }
                    }
                });
                modelFile = run.model();
            }
            double trainSeconds = (System.nanoTime() - t0) / 1e9;
            SweepSpec.Measure measure = spec.measure();
            ClusterOptions co = ClusterOptions.defaults().withK(measure.k()).withNInit(measure.nInit()).withSeed(cell.seed())
                    .withThreads(threads).withBackend(device);
            ObjectNode row = Json.mapper().createObjectNode();
            row.put("variant", cell.variant());
            row.put("seed", cell.seed());
            row.put("folder", cell.folder());
            row.put("fingerprint", fp);
            row.put("train_seconds", trainSeconds);
            if (measure.unpruned()) {
                Path unpruned = config.prune() != null ? dir.resolve(UNPRUNED_MODEL) : modelFile;
                Path out = config.prune() != null ? dir.resolve(UNPRUNED_CLUSTER) : dir.resolve(Results.CLUSTER_FILE);
                row.set("unpruned", measure(unpruned, co, measure, accuracy[0], out));
            }
            if (measure.pruned()) {
                row.set("pruned", measure(modelFile, co, measure, accuracy[1], dir.resolve(Results.CLUSTER_FILE)));
            }
            row.put("started", started.toString());
            row.put("finished", Instant.now().toString());
            AtomicFiles.writeString(dir.resolve(CELL_FILE), Json.writePretty(row) + "\n");
            return Json.write(row);
        } catch (IOException e) {
            throw new UncheckedIOException("cell " + cell.folder() + ": " + e.getMessage(), e);
        }
    }

    /** The network as it is after the training epochs, before pruning (as RunDir writes model.safetensors). */
    private static void saveUnpruned(Path file, Trainer trainer, TrainConfig config) {
        try (Mlp exported = trainer.exportModel()) {
            ModelFile.save(file, exported, config, Map.of("epochs_done", String.valueOf(trainer.epochsDone()), "phase", "unpruned"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Clusters (and shuffle-tests) one model file with {@link Pipeline#clusterModel}, as
     * {@code cleave cluster MODEL --shuffles N --out FILE} does, writes the record to {@code out}
     * with {@link Results}, and returns the phase's numbers.
     */
    private static ObjectNode measure(Path modelFile, ClusterOptions co, SweepSpec.Measure measure, double accuracy, Path out)
            throws IOException {
        ClusterRun run = Pipeline.clusterModel(new ClusterModelRequest(modelFile, co, measure.shuffles(), measure.method(), out),
                ProgressListener.NONE);
        Results.write(out, run);
        ObjectNode phase = Json.mapper().createObjectNode();
        phase.put("accuracy", accuracy);
        phase.put("ncut", run.result().ncut());
        ShuffleSummary s = run.shuffle();
        if (s != null) {
            phase.put("shuffled_mean", s.mean());
            phase.put("shuffled_sd", s.sd());
            if (s.z() == null) {
                phase.putNull("z");
            } else {
                phase.put("z", s.z());
            }
            phase.put("p", s.p());
        }
        return phase;
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
