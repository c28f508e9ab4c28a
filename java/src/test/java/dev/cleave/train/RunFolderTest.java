package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.DatasetSplit;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.nn.JavaBackend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run folder under kills, concurrent runs, full disks and damage: the lock, the ordered
 * epoch commit and what {@link RunDir#resume} repairs. Kill and lock tests run a child JVM
 * ({@link RunFolderChild}).
 */
class RunFolderTest {
    @TempDir
    Path tmp;

    static TrainConfig config() {
        return new TrainConfig("blobs", null, new int[] {64, 16, 4}, 3, 50, 1e-2f, 0.1f, 0f, 0f, 5, Device.Kind.JAVA, 1, null, null,
                null, null);
    }

    static DatasetSplit data() {
        return new DatasetSplit(TrainerTest.blobs(200, 1), TrainerTest.blobs(50, 2));
    }

    @AfterEach
    void noObserver() {
        AtomicFiles.observeWrites(null);
    }

    /** Trains (or resumes) the run in {@code dir} to {@code config().totalEpochs()} epochs, in this JVM. */
    private static List<float[]> trainHere(Path dir, boolean resume) {
        TrainConfig config = config();
        try (JavaBackend backend = new JavaBackend(); RunDir run = resume ? RunDir.open(dir) : RunDir.create(dir, config);
                Mlp model = Trainer.initialModel(config, backend); Trainer trainer = new Trainer(config, backend, model)) {
            if (resume) {
                run.resume(trainer, config);
            }
            run.trainToEnd(trainer, config, data(), ProgressListener.NONE, m -> {});
            return trainer.checkpoint().parameters();
        }
    }

    private static Process child(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                RunFolderChild.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** The child's first line of output (waits for it), or null when it ended without one. */
    private static String firstLine(Process p) throws IOException {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup, as kill -9
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not die");
    }

    private static List<Integer> metricsEpochs(Path dir) {
        return RunDir.forReading(dir).readMetrics().stream().map(EpochMetrics::epoch).toList();
    }

    private static List<String> tempFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    private static String modelEpochs(Path dir) {
        return Safetensors.read(dir.resolve(RunDir.MODEL)).metadata().get("epochs_done");
    }

    @Test
    void aHeldFolderIsRefusedWithItsHolderAndFreedWhenTheHolderDies() throws Exception {
        Path dir = tmp.resolve("run");
        Process holder = child("lock", dir.toString());
        try {
            String line = firstLine(holder);
            assertTrue(line != null && line.startsWith("locked "), "child: " + line);
            String pid = line.substring("locked ".length());
            InvalidInputException out = assertThrows(InvalidInputException.class, () -> RunDir.create(dir, config()));
            assertTrue(out.getMessage().startsWith("--out " + dir + " is in use by another cleave run (pid " + pid + " on "),
                    out.getMessage());
            InvalidInputException resume = assertThrows(InvalidInputException.class, () -> RunDir.open(dir));
            assertTrue(resume.getMessage().contains("--resume " + dir + " is in use by another cleave run (pid " + pid),
                    resume.getMessage());
            assertEquals(config(), RunDir.forReading(dir).readConfig(), "reading a held folder still works");
        } finally {
            kill(holder);
        }
        try (RunDir run = RunDir.open(dir)) { // a killed holder leaves no stale lock
            assertEquals(dir, run.path());
        }
    }

    @Test
    void aSecondRunInThisProcessIsRefusedToo() {
        Path dir = tmp.resolve("run");
        try (RunDir run = RunDir.create(dir, config())) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> RunDir.open(dir));
            assertTrue(e.getMessage().contains("is in use by another cleave run (pid " + ProcessHandle.current().pid()),
                    e.getMessage());
        }
    }

    /** Kills a child run at epoch 2's commit step {@code stage}, checks the folder, resumes and compares. */
    private void killResumeAndCompare(String stage, String checkpointAfterKill, String modelAfterKill,
            List<Integer> metricsAfterKill, boolean tempFileAfterKill) throws Exception {
        List<float[]> straight = trainHere(tmp.resolve("straight"), false);
        Path dir = tmp.resolve("killed-" + stage);
        Process p = child("train", dir.toString(), stage);
        try {
            assertEquals("stopped", firstLine(p));
        } finally {
            kill(p);
        }
        assertEquals(checkpointAfterKill, Safetensors.read(dir.resolve(RunDir.CHECKPOINT)).metadata().get("epochs_done"));
        assertEquals(modelAfterKill, modelEpochs(dir));
        assertEquals(metricsAfterKill, metricsEpochs(dir));
        assertEquals(tempFileAfterKill, !tempFiles(dir).isEmpty(), tempFiles(dir).toString());

        List<float[]> resumed = trainHere(dir, true);
        assertEquals(List.of(1, 2, 3), metricsEpochs(dir), "no hole, no repeat");
        assertEquals("3", modelEpochs(dir));
        assertEquals(List.of(), tempFiles(dir));
        for (int i = 0; i < straight.size(); i++) {
            assertArrayEquals(straight.get(i), resumed.get(i), "parameter tensor " + i + " after a kill at " + stage);
        }
    }

    @Test
    void killedWhileWritingTheCheckpoint() throws Exception {
        killResumeAndCompare("checkpoint", "1", "1", List.of(1), true);
    }

    @Test
    void killedWhileWritingTheModelAfterTheCheckpoint() throws Exception {
        killResumeAndCompare("model", "2", "1", List.of(1), true);
    }

    @Test
    void killedBeforeTheMetricsLine() throws Exception {
        killResumeAndCompare("metrics", "2", "2", List.of(1), false);
    }

    /** A run of 2 epochs in {@code dir}, stopped cleanly. */
    private static void twoEpochs(Path dir) {
        TrainConfig config = config();
        try (JavaBackend backend = new JavaBackend(); RunDir run = RunDir.create(dir, config);
                Mlp model = Trainer.initialModel(config, backend); Trainer trainer = new Trainer(config, backend, model)) {
            for (int e = 0; e < 2; e++) {
                run.saveEpoch(trainer, config, trainer.runEpoch(data().train(), data().test(), ProgressListener.NONE));
            }
        }
    }

    @Test
    void aTornLastMetricsLineIsLeftOutByReadersAndRepairedOnResume() throws IOException {
        Path dir = tmp.resolve("torn");
        twoEpochs(dir);
        Path metrics = dir.resolve(RunDir.METRICS);
        String good = Files.readString(metrics);
        Files.writeString(metrics, "{\"epoch\":3,\"phase\":\"tr", StandardOpenOption.APPEND);
        assertEquals(List.of(1, 2), metricsEpochs(dir));
        trainHere(dir, true);
        assertEquals(List.of(1, 2, 3), metricsEpochs(dir));
        assertTrue(Files.readString(metrics).startsWith(good), "the finished epochs' lines are kept as they were");

        Path bad = tmp.resolve("bad-middle");
        twoEpochs(bad);
        List<String> lines = Files.readAllLines(bad.resolve(RunDir.METRICS));
        Files.writeString(bad.resolve(RunDir.METRICS), "{\"epo\n" + String.join("\n", lines) + "\n");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> metricsEpochs(bad));
        assertTrue(e.getMessage().contains("line 1 is not a metrics line"), e.getMessage());
    }

    @Test
    void aDamagedCheckpointSaysSoAndNamesTheModelThatIsStillGood() throws IOException {
        Path dir = tmp.resolve("damaged");
        twoEpochs(dir);
        Path checkpoint = dir.resolve(RunDir.CHECKPOINT);
        byte[] bytes = Files.readAllBytes(checkpoint);
        for (int i = 0; i < 100; i++) {
            bytes[bytes.length - 3000 + i] = (byte) 0x3f; // finite floats, wrong values
        }
        Files.write(checkpoint, bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> trainHere(dir, true));
        assertTrue(e.getMessage().startsWith(checkpoint + " is damaged (its payload's CRC32C is "), e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve(RunDir.MODEL) + " (epoch 2) is still good"), e.getMessage());

        bytes[bytes.length - 3000] = (byte) 0xff; // with 0x3f around: a NaN
        bytes[bytes.length - 2999] = (byte) 0xff;
        bytes[bytes.length - 2998] = (byte) 0xff;
        bytes[bytes.length - 2997] = (byte) 0xff;
        Files.write(checkpoint, bytes);
        e = assertThrows(InvalidInputException.class, () -> RunDir.forReading(dir).readCheckpoint());
        assertTrue(e.getMessage().contains(" is damaged ("), e.getMessage());
    }

    @Test
    void aCheckpointWithoutChecksumOfTheOldFormatIsAcceptedIfFinite() throws IOException {
        Path dir = tmp.resolve("v1");
        twoEpochs(dir);
        Path checkpoint = dir.resolve(RunDir.CHECKPOINT);
        SafetensorsFile f = Safetensors.read(checkpoint);
        Map<String, String> metadata = new LinkedHashMap<>(f.metadata());
        metadata.remove(RunDir.CHECKSUM_KEY);
        metadata.remove(RunDir.METRICS_KEY);
        metadata.put("format", RunDir.CHECKPOINT_FORMAT_V1);
        Safetensors.write(checkpoint, new LinkedHashMap<>(f.tensors()), metadata);
        assertEquals(2, RunDir.forReading(dir).readCheckpoint().epochsDone());

        metadata.put("format", RunDir.CHECKPOINT_FORMAT);
        Safetensors.write(checkpoint, new LinkedHashMap<>(f.tensors()), metadata);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> RunDir.forReading(dir).readCheckpoint());
        assertTrue(e.getMessage().contains("has no payload_crc32c"), e.getMessage());
    }

    /** Fails every write to {@code name} with the error a full disk gives, from its {@code nth} write on. */
    private static void fullDiskAt(String name, int nth) {
        int[] seen = {0};
        AtomicFiles.observeWrites((target, file, position, length) -> {
            if (target.getFileName().toString().equals(name) && (position == 0 || name.equals(RunDir.METRICS))
                    && ++seen[0] >= nth) {
                throw new java.nio.file.FileSystemException(file.toString(), null, "No space left on device");
            }
        });
    }

    @Test
    void aFullDiskIsOneLineAndLeavesTheLastGoodEpoch() throws IOException {
        for (String name : List.of(RunDir.CHECKPOINT, RunDir.MODEL, RunDir.METRICS)) {
            Path dir = tmp.resolve("full-" + name);
            fullDiskAt(name, 2);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> trainHere(dir, false));
            AtomicFiles.observeWrites(null);
            assertTrue(e.getMessage().startsWith("cannot save epoch 2 in " + dir + " (No space left on device): "),
                    e.getMessage());
            assertTrue(e.getMessage().contains(name.equals(RunDir.CHECKPOINT) ? "the folder still holds epoch 1 intact"
                    : "epoch 2's checkpoint is saved"), e.getMessage());
            assertTrue(e.getMessage().endsWith("continue with 'cleave train --resume " + dir + "'"), e.getMessage());
            assertEquals(List.of(), tempFiles(dir), name);
            assertEquals(List.of(1), metricsEpochs(dir), name);
            trainHere(dir, true);
            assertEquals(List.of(1, 2, 3), metricsEpochs(dir), name);
        }
        Path fresh = tmp.resolve("full-at-start");
        fullDiskAt(RunDir.CONFIG, 1);
        InvalidInputException start = assertThrows(InvalidInputException.class, () -> RunDir.create(fresh, config()));
        AtomicFiles.observeWrites(null);
        assertTrue(start.getMessage().startsWith("cannot write " + fresh.resolve(RunDir.CONFIG) + " (No space left on device): "
                + "nothing is trained yet"), start.getMessage());
        assertTrue(start.getMessage().endsWith("run the same command again") && !start.getMessage().contains("--resume"),
                start.getMessage());
        RunDir.create(fresh, config()).close(); // the lock was released: the same command now starts
        Path resumed = tmp.resolve("full-on-resume");
        twoEpochs(resumed);
        Files.delete(resumed.resolve(RunDir.MODEL));
        fullDiskAt(RunDir.MODEL, 1);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> trainHere(resumed, true));
        assertTrue(e.getMessage().startsWith("cannot rewrite " + resumed.resolve(RunDir.MODEL)
                + " from the checkpoint (No space left on device): the checkpoint of epoch 2 is intact"), e.getMessage());
    }

    @Test
    void resumeRemovesTemporaryFilesAndRewritesAMissingModel() throws IOException {
        Path dir = tmp.resolve("temps");
        twoEpochs(dir);
        Files.writeString(dir.resolve(".model.safetensors.abc123.tmp"), "half");
        Files.writeString(dir.resolve(".cleave-write-check.42.tmp"), "");
        Files.writeString(dir.resolve("notes.tmp"), "mine");
        Files.delete(dir.resolve(RunDir.MODEL));
        try (JavaBackend backend = new JavaBackend(); RunDir run = RunDir.open(dir);
                Mlp model = Trainer.initialModel(config(), backend); Trainer trainer = new Trainer(config(), backend, model)) {
            assertEquals(2, run.resume(trainer, config()));
        }
        assertEquals(List.of("notes.tmp"), tempFiles(dir), "only the files a kill leaves are removed");
        assertEquals("2", modelEpochs(dir));
    }

    @Test
    void aRunWithoutCheckpointResumesFromScratch() throws IOException {
        Path dir = tmp.resolve("empty");
        RunDir.create(dir, config()).close();
        Files.writeString(dir.resolve(RunDir.METRICS), "{\"epoch\":1,");
        assertNull(RunDir.forReading(dir).readCheckpoint());
        trainHere(dir, true);
        assertEquals(List.of(1, 2, 3), metricsEpochs(dir));
        assertFalse(tempFiles(dir).iterator().hasNext());
    }
}
