package dev.cleave.train;

import dev.cleave.data.DatasetSplit;
import dev.cleave.io.AtomicFiles;
import dev.cleave.nn.JavaBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.util.ProgressListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child JVM of {@link RunFolderTest}: {@code lock DIR} creates a run in DIR and holds it
 * until killed; {@code train DIR STAGE} trains {@link RunFolderTest#config()} and, at epoch 2's
 * commit, stops at STAGE (checkpoint: while the checkpoint's temporary file is written; model:
 * while the model's temporary file is written; metrics: before the metrics line is appended),
 * prints "stopped" and waits there to be killed.
 */
public final class RunFolderChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        if (args[0].equals("lock")) {
            try (RunDir run = RunDir.create(dir, RunFolderTest.config())) {
                System.out.println("locked " + ProcessHandle.current().pid());
                System.out.flush();
                System.in.read(); // held until the parent kills this process
            }
            return;
        }
        String target = switch (args[1 + 1]) {
            case "checkpoint" -> RunDir.CHECKPOINT;
            case "model" -> RunDir.MODEL;
            default -> RunDir.METRICS;
        };
        AtomicInteger seen = new AtomicInteger();
        AtomicFiles.observeWrites((t, file, position, length) -> {
            boolean start = t.getFileName().toString().equals(RunDir.METRICS) || position == 0;
            if (t.getFileName().toString().equals(target) && start && seen.incrementAndGet() == 2) {
                System.out.println("stopped");
                System.out.flush();
                try {
                    Thread.sleep(600_000);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        });
        TrainConfig config = RunFolderTest.config();
        DatasetSplit data = RunFolderTest.data();
        try (JavaBackend backend = new JavaBackend(); RunDir run = RunDir.create(dir, config);
                Mlp model = Trainer.initialModel(config, backend); Trainer trainer = new Trainer(config, backend, model)) {
            run.trainToEnd(trainer, config, data, ProgressListener.NONE, m -> {});
        }
    }
}
