package dev.cleave.train;

import dev.cleave.data.DatasetSplit;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.InputFiles;
import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.io.SafetensorsIntegrity;
import dev.cleave.modular.LayerClusters;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A training run's folder: config.json, model.safetensors (the latest weights), metrics.jsonl
 * (one JSON line per epoch) and checkpoint.safetensors (weights plus Adam's state, for
 * {@code --resume}).
 *
 * <p>A run holds an operating-system lock on the folder ({@link RunLock}) from {@link #create}
 * or {@link #open} to {@link #close}; a second run on the same folder is refused, and a killed
 * run's lock goes with its process. {@link #forReading} opens a folder without the lock (for the
 * report), reading only whole files and whole lines.
 *
 * <p>An epoch's commit is ordered: first the checkpoint (atomically replaced; it also records
 * the epoch's metrics line and a CRC32C of its payload), then the model file (atomically
 * replaced), then the metrics line (appended). The checkpoint is the truth: on resume,
 * {@link #resume} removes temporary files a kill left, verifies the checkpoint, and rewrites
 * whatever lags behind it (the model file, the last metrics line), dropping a metrics line torn
 * by a kill, so the folder is consistent whatever moment a run was killed at.
 */
public final class RunDir implements AutoCloseable {
    public static final String CONFIG = "config.json";
    public static final String MODEL = "model.safetensors";
    public static final String METRICS = "metrics.jsonl";
    public static final String CHECKPOINT = "checkpoint.safetensors";

    /** The checkpoint format written now: v1 plus {@value #CHECKSUM_KEY} and {@value #METRICS_KEY}. */
    public static final String CHECKPOINT_FORMAT = "cleave-checkpoint-v2";
    /**
     * The format before checksums. Such checkpoints are still accepted: their tensors are checked
     * to be finite, but damage that leaves them finite cannot be detected.
     */
    public static final String CHECKPOINT_FORMAT_V1 = "cleave-checkpoint-v1";
    /** Checkpoint metadata: CRC32C of the payload ({@link SafetensorsIntegrity#payloadCrc32c}). */
    public static final String CHECKSUM_KEY = "payload_crc32c";
    /** Checkpoint metadata: the metrics line of the checkpoint's epoch, to restore it on resume. */
    public static final String METRICS_KEY = "epoch_metrics";

    private final Path dir;
    private final RunLock lock; // null for a folder opened for reading

    private RunDir(Path dir, RunLock lock) {
        this.dir = dir;
        this.lock = lock;
    }

    public Path path() {
        return dir;
    }

    public Path model() {
        return dir.resolve(MODEL);
    }

    /**
     * Starts a new run in {@code dir} (created if needed), locks it and writes config.json.
     * Refuses a folder that already holds a run, so no earlier work is overwritten, and a folder
     * another run holds.
     */
    public static RunDir create(Path dir, TrainConfig config) {
        AtomicFiles.ensureWritableDirectory(dir, "--out");
        RunLock lock = RunLock.acquire(dir, "--out");
        try {
            if (Files.exists(dir.resolve(CONFIG)) || Files.exists(dir.resolve(CHECKPOINT))) {
                throw new InvalidInputException("--out " + dir + " already holds a training run: continue it with --resume "
                        + dir + ", or choose another folder");
            }
            RunDir run = new RunDir(dir, lock);
            try {
                AtomicFiles.writeString(dir.resolve(CONFIG), Json.writePretty(config) + "\n");
            } catch (IOException e) { // no run exists yet, so there is nothing to resume
                throw new InvalidInputException("cannot write " + dir.resolve(CONFIG) + " (" + InputFiles.reason(e)
                        + "): nothing is trained yet; free some disk space (or fix the folder's permissions) and run the same "
                        + "command again", e);
            }
            return run;
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Opens and locks an existing run for {@code --resume}. */
    public static RunDir open(Path dir) {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new InvalidInputException("--resume " + dir + ": no " + CONFIG + " there, so it is not a Cleave training run "
                    + "(start one with 'cleave train --out " + dir + "')");
        }
        AtomicFiles.ensureWritableDirectory(dir, "--resume");
        return new RunDir(dir, RunLock.acquire(dir, "--resume"));
    }

    /** Opens an existing run to read it, without the lock (a live run may hold it). */
    public static RunDir forReading(Path dir) {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new InvalidInputException(dir + ": no " + CONFIG + " there, so it is not a Cleave training run "
                    + "(expected the --out folder of cleave train)");
        }
        return new RunDir(dir, null);
    }

    /** Releases the folder's lock (nothing for a folder opened for reading). */
    @Override
    public void close() {
        if (lock != null) {
            lock.close();
        }
    }

    public TrainConfig readConfig() {
        Path file = dir.resolve(CONFIG);
        try {
            return Json.read(Files.readString(file), TrainConfig.class);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": not a valid training config: " + e.getMessage(), e);
        }
    }

    public void writeConfig(TrainConfig config) {
        try {
            AtomicFiles.writeString(dir.resolve(CONFIG), Json.writePretty(config) + "\n");
        } catch (IOException e) {
            throw cannotWrite("write " + dir.resolve(CONFIG), e, "the run's saved state is unchanged");
        }
    }

    /**
     * Trains until {@code config.totalEpochs()} are done, saving after every epoch; each epoch's
     * metrics go to {@code onEpoch} after they are saved. Returns the last epoch's metrics, or
     * null when nothing was left to train.
     */
    public EpochMetrics trainToEnd(Trainer trainer, TrainConfig config, DatasetSplit data, ProgressListener progress,
            Consumer<EpochMetrics> onEpoch) {
        EpochMetrics last = null;
        while (trainer.epochsDone() < config.totalEpochs()) {
            last = trainer.runEpoch(data.train(), data.test(), progress);
            saveEpoch(trainer, config, last);
            onEpoch.accept(last);
        }
        return last;
    }

    /**
     * Commits the epoch {@code trainer} just finished: checkpoint, then model, then the metrics
     * line. A failed write (a full disk) is an {@link InvalidInputException} saying what the
     * folder still holds; the folder stays consistent (see the class comment).
     */
    public void saveEpoch(Trainer trainer, TrainConfig config, EpochMetrics metrics) {
        int epoch = trainer.epochsDone();
        try {
            writeCheckpoint(trainer.checkpoint(), config, metrics);
        } catch (IOException e) {
            throw cannotWrite("save epoch " + epoch + " in " + dir, e, epoch == 1 ? "no epoch is saved yet"
                    : "the folder still holds epoch " + (epoch - 1) + " intact");
        }
        try {
            writeModel(trainer, config);
            AtomicFiles.appendLine(dir.resolve(METRICS), Json.write(metrics));
        } catch (IOException e) {
            throw cannotWrite("save epoch " + epoch + " in " + dir, e, "epoch " + epoch
                    + "'s checkpoint is saved and --resume completes the model file and metrics from it");
        }
    }

    private void writeModel(Trainer trainer, TrainConfig config) throws IOException {
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("epochs_done", String.valueOf(trainer.epochsDone()));
        if (!trainer.clusters().isEmpty()) {
            extra.put(CLUSTERS_KEY, Json.write(trainer.clusters()));
        }
        trainer.saveModel(model(), extra);
    }

    private InvalidInputException cannotWrite(String what, IOException e, String state) {
        return new InvalidInputException("cannot " + what + " (" + InputFiles.reason(e) + "): " + state
                + "; free some disk space (or fix the folder's permissions) and continue with 'cleave train --resume "
                + dir + "'", e);
    }

    /**
     * Brings {@code trainer} to the state of the last checkpoint (if any) and the folder in line
     * with it: removes temporary files a killed run left, rewrites the model file when it lags
     * behind the checkpoint (or is damaged), drops metrics lines after the checkpoint's epoch and
     * a torn last line, and restores the checkpoint's own metrics line when it is missing.
     * Returns the epochs done.
     *
     * @throws InvalidInputException when the checkpoint is damaged (saying which epoch's model
     *                               file is still good) or the folder cannot be written
     */
    public int resume(Trainer trainer, TrainConfig config) {
        try {
            for (String name : List.of(CONFIG, MODEL, METRICS, CHECKPOINT, "cleave-write-check")) {
                AtomicFiles.removeTempFiles(dir.resolve(name));
            }
        } catch (IOException e) {
            throw cannotWrite("remove the temporary files in " + dir, e, "nothing was changed");
        }
        CheckpointFile c = readCheckpointFile();
        if (c == null) {
            rewriteMetrics(List.of(), 0, null);
            return 0;
        }
        trainer.restore(c.checkpoint());
        int epochs = c.checkpoint().epochsDone();
        try {
            if (!modelIsAt(epochs)) {
                writeModel(trainer, config);
            }
        } catch (IOException e) {
            throw cannotWrite("rewrite " + model() + " from the checkpoint", e, "the checkpoint of epoch " + epochs
                    + " is intact");
        }
        rewriteMetrics(metricsLines(), epochs, c.metricsLine());
        return epochs;
    }

    /** Whether model.safetensors exists, reads cleanly and records {@code epochs} finished epochs. */
    private boolean modelIsAt(int epochs) {
        if (!Files.exists(model())) {
            return false;
        }
        try {
            return String.valueOf(epochs).equals(modelMetadata().get("epochs_done"));
        } catch (InvalidInputException e) {
            return false;
        }
    }

    /** The metadata of model.safetensors, read and checked as a model (an MLP or a network). */
    private Map<String, String> modelMetadata() {
        SafetensorsFile f = Safetensors.read(model());
        if (ModelFile.NET_FORMAT.equals(f.metadata().get("format"))) {
            SafetensorsIntegrity.requireFinite(model(), f.tensors());
            return f.metadata();
        }
        try (ModelFile.Loaded m = ModelFile.load(model())) {
            return m.metadata();
        }
    }

    /** One parsed line of metrics.jsonl. */
    private record MetricsLine(String text, EpochMetrics metrics) {}

    /**
     * The metrics lines, parsed; a last line that does not parse (a kill cut it short) is left
     * out, any other bad line is an error.
     */
    private List<MetricsLine> metricsLines() {
        Path file = dir.resolve(METRICS);
        if (!Files.exists(file)) {
            return List.of();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new InvalidInputException(file + ": not UTF-8 text: the file is damaged", e);
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        } catch (java.io.UncheckedIOException e) {
            throw InputFiles.cannotRead(file, e.getCause());
        }
        int last = lines.size() - 1;
        while (last >= 0 && lines.get(last).isBlank()) {
            last--;
        }
        List<MetricsLine> out = new ArrayList<>();
        for (int i = 0; i <= last; i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(new MetricsLine(line, Json.read(line, EpochMetrics.class)));
            } catch (IllegalArgumentException e) {
                if (i == last) {
                    break; // torn by a kill mid-append: the epoch's checkpoint, not this line, is the record
                }
                throw new InvalidInputException(file + ": line " + (i + 1) + " is not a metrics line (" + e.getMessage()
                        + "): the file is damaged; remove that line to read the rest", e);
            }
        }
        return out;
    }

    /** The metrics of the finished epochs, one per line, in file order (a torn last line is left out). */
    public List<EpochMetrics> readMetrics() {
        return metricsLines().stream().map(MetricsLine::metrics).toList();
    }

    /** Keeps the lines up to epoch {@code epochs}, adds the checkpoint's own line when it is missing, rewrites if anything changed. */
    private void rewriteMetrics(List<MetricsLine> lines, int epochs, String checkpointLine) {
        Path file = dir.resolve(METRICS);
        List<String> keep = new ArrayList<>();
        int lastEpoch = 0;
        for (MetricsLine l : lines) {
            if (l.metrics().epoch() <= epochs) {
                keep.add(l.text());
                lastEpoch = l.metrics().epoch();
            }
        }
        if (lastEpoch < epochs && checkpointLine != null) {
            keep.add(checkpointLine);
        }
        try {
            String text = keep.isEmpty() ? "" : String.join("\n", keep) + "\n";
            if (!Files.exists(file) ? !text.isEmpty() : !text.equals(Files.readString(file))) {
                AtomicFiles.writeString(file, text);
            }
        } catch (IOException e) {
            throw cannotWrite("rewrite " + file, e, "the checkpoint of epoch " + epochs + " is intact");
        }
    }

    /** A checkpoint as read from the folder, with the metrics line it recorded (null for a v1 checkpoint). */
    private record CheckpointFile(Checkpoint checkpoint, String metricsLine) {}

    /**
     * The last checkpoint, verified (checksum, finite tensors), or null when the run has none
     * yet (it stopped during its first epoch).
     *
     * @throws InvalidInputException when it is damaged, saying which epoch's model file is still good
     */
    public Checkpoint readCheckpoint() {
        CheckpointFile c = readCheckpointFile();
        return c == null ? null : c.checkpoint();
    }

    private CheckpointFile readCheckpointFile() {
        Path file = dir.resolve(CHECKPOINT);
        if (!Files.exists(file)) {
            return null;
        }
        SafetensorsFile f;
        try {
            f = Safetensors.read(file);
            verifyChecksum(file, f);
            SafetensorsIntegrity.requireFinite(file, f.tensors());
        } catch (InvalidInputException e) {
            throw damaged(file, e.getMessage(), e);
        }
        List<float[]> params = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
        List<String> names = new ArrayList<>();
        Map<String, float[]> buffers = new LinkedHashMap<>(), masks = new LinkedHashMap<>();
        Map<String, float[]> firsts = new LinkedHashMap<>(), seconds = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Safetensors.Tensor> e : f.tensors().entrySet()) {
                String name = e.getKey();
                float[] values = e.getValue().asFloats();
                if (name.startsWith("adam.m.")) {
                    firsts.put(name.substring("adam.m.".length()), values);
                } else if (name.startsWith("adam.v.")) {
                    seconds.put(name.substring("adam.v.".length()), values);
                } else if (name.startsWith("prune.mask.")) {
                    masks.put(name.substring("prune.mask.".length()), values);
                } else if (name.endsWith(".running_mean") || name.endsWith(".running_var")) {
                    buffers.put(name, values);
                } else {
                    names.add(name);
                    params.add(values);
                }
            }
            for (String name : names) {
                if (!firsts.containsKey(name) || !seconds.containsKey(name)) {
                    throw new IllegalArgumentException("it lacks Adam's moments of " + name);
                }
                m.add(firsts.get(name));
                v.add(seconds.get(name));
            }
            int epochs = Integer.parseInt(f.metadata().getOrDefault("epochs_done", ""));
            long steps = Long.parseLong(f.metadata().getOrDefault("adam_steps", ""));
            long globalStep = Long.parseLong(f.metadata().getOrDefault("global_step", ""));
            if (epochs < 0 || steps < 0 || globalStep < 0) {
                throw new NumberFormatException("negative count");
            }
            String line = f.metadata().get(METRICS_KEY);
            if (line != null && Json.read(line, EpochMetrics.class).epoch() != epochs) {
                throw new IllegalArgumentException("its metrics line is not of epoch " + epochs);
            }
            return new CheckpointFile(new Checkpoint(epochs, steps, globalStep, names, params, m, v, buffers, masks,
                    clustersOf(f.metadata())), line);
        } catch (NumberFormatException e) {
            throw damaged(file, "metadata lacks epochs_done / adam_steps / global_step", e);
        } catch (IllegalArgumentException e) { // includes InvalidInputException
            throw damaged(file, e.getMessage(), e);
        }
    }

    private static void verifyChecksum(Path file, SafetensorsFile f) {
        String stored = f.metadata().get(CHECKSUM_KEY);
        String format = f.metadata().get("format");
        if (stored == null) {
            if (CHECKPOINT_FORMAT_V1.equals(format)) {
                return; // written before checksums: accepted with the finite check only
            }
            throw new InvalidInputException("it has no " + CHECKSUM_KEY + " in its metadata (format " + format + ")");
        }
        String actual = SafetensorsIntegrity.payloadCrc32c(f.tensors(), f.metadata(), CHECKSUM_KEY);
        if (!actual.equals(stored)) {
            throw new InvalidInputException("its payload's CRC32C is " + actual + " but its metadata records " + stored);
        }
    }

    /** "the checkpoint is damaged", with which epoch's model file is still good. */
    private InvalidInputException damaged(Path file, String detail, Exception cause) {
        String prefix = file + ": ";
        String why = detail.startsWith(prefix) ? detail.substring(prefix.length()) : detail;
        String modelState;
        if (!Files.exists(model())) {
            modelState = "there is no " + MODEL + " to fall back on";
        } else {
            try {
                String epochs = modelMetadata().get("epochs_done");
                modelState = model() + (epochs == null ? "" : " (epoch " + epochs + ")")
                        + " is still good: eval, cluster and circuits can use it";
            } catch (InvalidInputException e) {
                modelState = model() + " is damaged too";
            }
        }
        return new InvalidInputException(file + " is damaged (" + why + "), so the run cannot resume from it; " + modelState
                + "; to train again, start a new run with --out", cause);
    }

    private void writeCheckpoint(Checkpoint c, TrainConfig config, EpochMetrics metrics) throws IOException {
        LinkedHashMap<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < c.parameters().size(); i++) {
            String name = c.names().get(i);
            tensors.put(name, flat(c.parameters().get(i)));
            tensors.put("adam.m." + name, flat(c.firstMoments().get(i)));
            tensors.put("adam.v." + name, flat(c.secondMoments().get(i)));
        }
        for (Map.Entry<String, float[]> b : c.buffers().entrySet()) {
            tensors.put(b.getKey(), flat(b.getValue()));
        }
        for (Map.Entry<String, float[]> mask : c.pruneMasks().entrySet()) {
            tensors.put("prune.mask." + mask.getKey(), flat(mask.getValue()));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", CHECKPOINT_FORMAT);
        metadata.put("epochs_done", String.valueOf(c.epochsDone()));
        metadata.put("adam_steps", String.valueOf(c.adamSteps()));
        metadata.put("global_step", String.valueOf(c.globalStep()));
        if (!c.clusters().isEmpty()) {
            metadata.put(CLUSTERS_KEY, Json.write(c.clusters()));
        }
        metadata.put("config", Json.write(config));
        metadata.put(METRICS_KEY, Json.write(metrics));
        metadata.put(CHECKSUM_KEY, SafetensorsIntegrity.payloadCrc32c(tensors, metadata, CHECKSUM_KEY));
        Safetensors.write(dir.resolve(CHECKPOINT), tensors, metadata);
    }

    /** Metadata key holding the modular clusters as a JSON list of {@link LayerClusters}. */
    public static final String CLUSTERS_KEY = "clusters";

    /**
     * The clusters recorded in a model or checkpoint file's metadata (empty when none).
     *
     * @throws InvalidInputException when the metadata is not a valid cluster list
     */
    public static List<LayerClusters> clustersOf(Map<String, String> metadata) {
        String json = metadata.get(CLUSTERS_KEY);
        if (json == null) {
            return List.of();
        }
        LayerClusters[] read;
        try {
            read = Json.mapper().readValue(json, LayerClusters[].class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            Throwable cause = e.getCause();
            String why = cause instanceof IllegalArgumentException && cause.getMessage() != null ? cause.getMessage()
                    : cause instanceof NullPointerException ? "an entry lacks row_labels or col_labels"
                    : e.getOriginalMessage();
            throw new InvalidInputException("the '" + CLUSTERS_KEY + "' metadata is not a valid cluster list: " + why, e);
        }
        if (read == null || Arrays.asList(read).contains(null)) {
            throw new InvalidInputException("the '" + CLUSTERS_KEY + "' metadata is not a valid cluster list: "
                    + "expected a JSON list of {layer, k, row_labels, col_labels} objects");
        }
        return List.of(read);
    }

    private static Safetensors.Tensor flat(float[] values) {
        return Safetensors.Tensor.ofFloats(new long[] {values.length}, values);
    }
}
