package dev.cleave.train;

import dev.cleave.data.DatasetSplit;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Mlp;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A training run's folder: config.json, model.safetensors (the latest weights), metrics.jsonl
 * (one JSON line per epoch) and checkpoint.safetensors (weights plus Adam's state, for
 * {@code --resume}). After each epoch the checkpoint and the model are replaced atomically,
 * then the metrics line is appended, so an interrupted run always leaves a consistent folder.
 */
public final class RunDir {
    public static final String CONFIG = "config.json";
    public static final String MODEL = "model.safetensors";
    public static final String METRICS = "metrics.jsonl";
    public static final String CHECKPOINT = "checkpoint.safetensors";

    private final Path dir;

    private RunDir(Path dir) {
        this.dir = dir;
    }

    public Path path() {
        return dir;
    }

    public Path model() {
        return dir.resolve(MODEL);
    }

    /**
     * Starts a new run in {@code dir} (created if needed) and writes config.json. Refuses a folder
     * that already holds a run, so no earlier work is overwritten.
     */
    public static RunDir create(Path dir, TrainConfig config) {
        AtomicFiles.ensureWritableDirectory(dir, "--out");
        if (Files.exists(dir.resolve(CONFIG)) || Files.exists(dir.resolve(CHECKPOINT))) {
            throw new InvalidInputException("--out " + dir + " already holds a training run: continue it with --resume "
                    + dir + ", or choose another folder");
        }
        RunDir run = new RunDir(dir);
        run.writeConfig(config);
        return run;
    }

    /** Opens an existing run for {@code --resume}. */
    public static RunDir open(Path dir) {
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new InvalidInputException("--resume " + dir + ": no " + CONFIG + " there, so it is not a Cleave training run "
                    + "(start one with 'cleave train --out " + dir + "')");
        }
        AtomicFiles.ensureWritableDirectory(dir, "--resume");
        return new RunDir(dir);
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
            throw new UncheckedIOException("cannot write " + dir.resolve(CONFIG), e);
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

    /** Saves the state after an epoch: checkpoint, then model, then the metrics line. */
    public void saveEpoch(Trainer trainer, TrainConfig config, EpochMetrics metrics) {
        try {
            writeCheckpoint(trainer.checkpoint(), config);
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("epochs_done", String.valueOf(trainer.epochsDone()));
            if (!trainer.clusters().isEmpty()) {
                extra.put(CLUSTERS_KEY, Json.write(trainer.clusters()));
            }
            try (Mlp exported = trainer.exportModel()) {
                ModelFile.save(model(), exported, config, extra);
            }
            AtomicFiles.appendLine(dir.resolve(METRICS), Json.write(metrics));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save epoch " + metrics.epoch() + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The last checkpoint, or null when the run has none yet (it stopped during its first epoch). */
    public Checkpoint readCheckpoint() {
        Path file = dir.resolve(CHECKPOINT);
        if (!Files.exists(file)) {
            return null;
        }
        SafetensorsFile f = Safetensors.read(file);
        List<float[]> params = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>(), masks = new ArrayList<>();
        for (Map.Entry<String, Safetensors.Tensor> e : f.tensors().entrySet()) {
            String name = e.getKey();
            List<float[]> into = name.startsWith("adam.m.") ? m : name.startsWith("adam.v.") ? v
                    : name.startsWith("prune.mask.") ? masks : params;
            into.add(e.getValue().asFloats());
        }
        try {
            int epochs = Integer.parseInt(f.metadata().getOrDefault("epochs_done", ""));
            long steps = Long.parseLong(f.metadata().getOrDefault("adam_steps", ""));
            long globalStep = Long.parseLong(f.metadata().getOrDefault("global_step", ""));
            return new Checkpoint(epochs, steps, globalStep, params, m, v, masks, clustersOf(f.metadata()));
        } catch (NumberFormatException e) {
            throw new InvalidInputException(file + ": metadata lacks epochs_done / adam_steps / global_step: the checkpoint is damaged", e);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(file + ": " + e.getMessage(), e);
        }
    }

    private void writeCheckpoint(Checkpoint c, TrainConfig config) throws IOException {
        LinkedHashMap<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < c.parameters().size(); i++) {
            String name = "layers." + (i / 2) + (i % 2 == 0 ? ".weight" : ".bias");
            tensors.put(name, flat(c.parameters().get(i)));
            tensors.put("adam.m." + name, flat(c.firstMoments().get(i)));
            tensors.put("adam.v." + name, flat(c.secondMoments().get(i)));
        }
        for (int l = 0; l < c.pruneMasks().size(); l++) {
            tensors.put("prune.mask.layers." + l + ".weight", flat(c.pruneMasks().get(l)));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "cleave-checkpoint-v1");
        metadata.put("epochs_done", String.valueOf(c.epochsDone()));
        metadata.put("adam_steps", String.valueOf(c.adamSteps()));
        metadata.put("global_step", String.valueOf(c.globalStep()));
        if (!c.clusters().isEmpty()) {
            metadata.put(CLUSTERS_KEY, Json.write(c.clusters()));
        }
        metadata.put("config", Json.write(config));
        Safetensors.write(dir.resolve(CHECKPOINT), tensors, metadata);
    }

    /** Metadata key holding the modular clusters as a JSON list of {@link LayerClusters}. */
    public static final String CLUSTERS_KEY = "clusters";

    /** The clusters recorded in a model or checkpoint file's metadata (empty when none). */
    public static List<LayerClusters> clustersOf(Map<String, String> metadata) {
        String json = metadata.get(CLUSTERS_KEY);
        if (json == null) {
            return List.of();
        }
        try {
            return List.of(Json.mapper().readValue(json, LayerClusters[].class));
        } catch (java.io.IOException e) {
            throw new InvalidInputException("the '" + CLUSTERS_KEY + "' metadata is not a valid cluster list: " + e.getMessage(), e);
        }
    }

    private static Safetensors.Tensor flat(float[] values) {
        return Safetensors.Tensor.ofFloats(new long[] {values.length}, values);
    }

    /** Drops metrics lines of epochs after {@code epochsDone} (written by a run that stopped before its checkpoint). */
    public void trimMetrics(int epochsDone) {
        Path file = dir.resolve(METRICS);
        if (!Files.exists(file)) {
            return;
        }
        try {
            List<String> keep = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                if (!line.isBlank() && Json.read(line, EpochMetrics.class).epoch() <= epochsDone) {
                    keep.add(line);
                }
            }
            AtomicFiles.writeString(file, keep.isEmpty() ? "" : String.join("\n", keep) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + file, e);
        }
    }
}
