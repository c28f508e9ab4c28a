package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cleave train --l1-layers and --l2-layers: recorded in config.json and the model's metadata, kept on resume, bad values exit 2. */
class PenaltyLayersCliTest {
    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void writeData() throws IOException {
        data = CliTest.writeDataSet(tmp.resolve("data"), 300, 100);
    }

    private static String[] train(Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--dataset", "mnist-idx", "--data-dir", data.toString(),
                "--layers", "64,24,16,10", "--batch-size", "50", "--lr", "0.01", "--seed", "5", "--threads", "1", "--out",
                out.toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void theChoiceIsRecordedAndResumeKeepsIt() throws IOException {
        Path full = tmp.resolve("full"), part = tmp.resolve("part");
        String[] opts = {"--l2", "5e-5", "--l2-layers", "1,2", "--l1", "1e-3", "--l1-layers", "first"};
        List<String> withEpochs = new java.util.ArrayList<>(List.of(opts));
        withEpochs.addAll(List.of("--epochs", "3"));
        CliTest.Result r = CliTest.cli(train(full, withEpochs.toArray(String[]::new)));
        assertEquals(0, r.code(), r.err());
        try (RunDir run = RunDir.open(full)) {
            assertEquals("first", run.readConfig().l1Layers());
            assertEquals("1,2", run.readConfig().l2Layers());
        }
        assertTrue(Files.readString(full.resolve(RunDir.CONFIG)).contains("\"l1_layers\" : \"first\""));
        try (ModelFile.Loaded m = ModelFile.load(full.resolve(RunDir.MODEL))) {
            assertTrue(m.metadata().get("config").contains("\"l1_layers\":\"first\""), m.metadata().get("config"));
            assertTrue(m.metadata().get("config").contains("\"l2_layers\":\"1,2\""), m.metadata().get("config"));
        }

        withEpochs.set(withEpochs.size() - 1, "1");
        assertEquals(0, CliTest.cli(train(part, withEpochs.toArray(String[]::new))).code());
        CliTest.Result resumed = CliTest.cli("train", "--resume", part.toString(), "--epochs", "3");
        assertEquals(0, resumed.code(), resumed.err());
        try (RunDir run = RunDir.open(part)) {
            assertEquals("first", run.readConfig().l1Layers());
            assertEquals("1,2", run.readConfig().l2Layers());
        }
        try (ModelFile.Loaded a = ModelFile.load(full.resolve(RunDir.MODEL));
                ModelFile.Loaded b = ModelFile.load(part.resolve(RunDir.MODEL))) {
            for (int l = 0; l < a.model().layers(); l++) {
                assertArrayEquals(a.model().weight(l).toArray(), b.model().weight(l).toArray(), "layer " + l);
            }
        }
        CliTest.Result again = CliTest.cli("train", "--resume", part.toString(), "--epochs", "4", "--l1-layers", "all");
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--l1-layers"), again.err());
    }

    @Test
    void badValuesAreOneLineAndExit2() {
        String[][] cases = {
            {"--l1", "1e-3", "--l1-layers", "last"},
            {"--l1", "1e-3", "--l1-layers", "0,5"},
            {"--l2", "5e-5", "--l1-layers", "first"},
            {"--l1", "1e-3", "--l2-layers", "1"},
        };
        String[] expected = {
            "--l1-layers must be all, first, hidden or a comma list of weight-layer indices like 0,1; got 'last'",
            "--l1-layers: layer 5 does not exist (the model's weight layers are 0..2)",
            "--l1-layers first chooses the layers the L1 penalty acts on, but --l1 is 0",
            "--l2-layers 1 chooses the layers the L2 penalty acts on, but --l2 is 0",
        };
        for (int i = 0; i < cases.length; i++) {
            Path out = tmp.resolve("bad" + i);
            List<String> args = new java.util.ArrayList<>(List.of(cases[i]));
            args.addAll(List.of("--epochs", "1"));
            CliTest.Result r = CliTest.cli(train(out, args.toArray(String[]::new)));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(expected[i]), r.err());
            assertEquals(1, r.err().strip().split("\n").length, "one line: " + r.err());
            assertFalse(Files.exists(out), "a refused run leaves no folder");
        }
    }
}
