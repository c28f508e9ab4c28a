package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.io.Safetensors;
import dev.cleave.pipeline.CircuitsRun;
import dev.cleave.pipeline.Results;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cleave circuits on a tiny CNN trained by the test: ablation, dense and channel ECS, devices, report, errors. */
class CnnCircuitsCliTest {
    static final String ARCH = "conv:4,relu,maxpool,flatten,linear:8,relu,linear:8,relu,linear:10";

    @TempDir
    static Path tmp;
    static Path idx, run, model;

    @BeforeAll
    static void train() throws IOException {
        idx = CliTest.writeDataSet(tmp.resolve("idx"), 300, 100);
        run = tmp.resolve("run");
        CliTest.Result t = CliTest.cli("train", "--arch", ARCH, "--dataset", "mnist-idx", "--data-dir", idx.toString(), "--epochs", "2",
                "--batch-size", "25", "--lr", "0.01", "--seed", "3", "--threads", "2", "--out", run.toString());
        assertEquals(0, t.code(), t.err() + t.out());
        model = run.resolve("model.safetensors");
    }

    static CliTest.Result circuits(String... extra) {
        String[] base = {"circuits", model.toString(), "--dataset", "mnist-idx", "--data-dir", idx.toString(), "--seed", "1"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return CliTest.cli(all);
    }

    @Test
    void circuitsOfACnnWriteARecordTheReportShows() throws IOException {
        Path out = run.resolve("circuits.json");
        CliTest.Result r = circuits("--k", "2", "--layers", "fc2,conv1", "--ecs-channels", "--backend", "cpu", "--threads", "2",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("network: " + ARCH + " on 1x8x8"), r.out());
        assertTrue(r.out().contains("conv1 = layers.0 conv 4x1x3x3, fc1 = layers.4 linear 8x64, fc2 = layers.6 linear 8x8"), r.out());
        assertTrue(r.out().contains("clusters: co-clustering of fc2, conv1, k = 2; layers [0,6], k = 2"), r.out());
        assertTrue(r.out().contains("effective circuit size per label (dense layers [4,6,8]):"), r.out());
        assertTrue(r.out().contains("channel circuit size per label (4 channels of layers [0]):"), r.out());
        CircuitsRun c = Results.read(out, CircuitsRun.class);
        assertNotNull(c.arch());
        assertArrayEquals(new int[] {0, 6}, c.ablation().layers());
        assertEquals(10, c.ecs().length);
        assertEquals(10, c.channelEcs().length);
        assertEquals(8 * 64 + 8 * 8 + 10 * 8, c.ecsResult().weights());
        assertEquals("channels", c.channelEcsResult().unit());
        assertNull(c.ecsResult().circuits().get(0).mask(), "stored without masks");
        assertTrue(c.command().contains("--arch") == false && c.command().contains("--ecs-channels"), c.command());
        assertEquals(c, Results.read(out, CircuitsRun.class), "the record round-trips");

        Path html = tmp.resolve("report.html");
        CliTest.Result rep = CliTest.cli("report", run.toString(), "--out", html.toString());
        assertEquals(0, rep.code(), rep.err());
        String page = Files.readString(html);
        assertTrue(page.contains("Effective circuit size over conv channels"), "the channel ECS chart");
        assertTrue(page.contains("clusters of layers [0, 6]"), "the ablation heat map of the CNN run");
    }

    @Test
    void theAblationOfTheModelsOwnClustersAgreesAcrossDevices() throws IOException {
        // the clusters a modular training records in the metadata (layer = N of layers.N.weight)
        var f = Safetensors.read(model);
        Map<String, String> meta = new LinkedHashMap<>(f.metadata());
        meta.put("clusters", "[{\"layer\":0,\"k\":2,\"row_labels\":[0,1,0,1],\"col_labels\":[0]},"
                + "{\"layer\":6,\"k\":2,\"row_labels\":[0,0,0,0,1,1,1,1],\"col_labels\":[0,1,0,1,0,1,0,1]}]");
        Path modular = tmp.resolve("modular.safetensors");
        Safetensors.write(modular, new LinkedHashMap<>(f.tensors()), meta);
        CircuitsRun cpu = null;
        for (String device : new String[] {"cpu", "java", "cuda-emu"}) {
            Path out = tmp.resolve("abl-" + device + ".json");
            CliTest.Result r = CliTest.cli("circuits", modular.toString(), "--dataset", "mnist-idx", "--data-dir", idx.toString(),
                    "--no-ecs", "--backend", device, "--out", out.toString());
            assertEquals(0, r.code(), device + ": " + r.err());
            assertTrue(r.out().contains("clusters: model metadata (modular training); layers [0,6], k = 2"), r.out());
            CircuitsRun c = Results.read(out, CircuitsRun.class);
            if (cpu == null) {
                cpu = c;
                continue;
            }
            for (int k = 0; k < 2; k++) {
                assertArrayEquals(cpu.ablation().offAccuracy()[k], c.ablation().offAccuracy()[k], 1e-9, device + " OFF(" + k + ")");
                assertArrayEquals(cpu.ablation().onAccuracy()[k], c.ablation().onAccuracy()[k], 1e-9, device + " ON(" + k + ")");
            }
        }
    }

    @Test
    void aStateDictWithoutItsArchNeedsArch() throws IOException {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(Safetensors.read(model).tensors());
        LinkedHashMap<String, Safetensors.Tensor> bare = new LinkedHashMap<>();
        tensors.forEach((k, v) -> bare.put(k.replace("layers.", ""), v));
        Path plain = tmp.resolve("bare.safetensors");
        Safetensors.write(plain, bare, Map.of());
        String[] common = {"circuits", plain.toString(), "--dataset", "mnist-idx", "--data-dir", idx.toString(), "--k", "2",
            "--no-ecs"};
        CliTest.Result refused = CliTest.cli(common);
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("does not say its architecture: give it with --arch"), refused.err());
        assertOneLineError(refused);
        String[] withArch = new String[common.length + 2];
        System.arraycopy(common, 0, withArch, 0, common.length);
        withArch[common.length] = "--arch";
        withArch[common.length + 1] = ARCH;
        CliTest.Result ok = CliTest.cli(withArch);
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("clusters: co-clustering of fc2, k = 2"), ok.out());
    }

    /** Exit 2 and one error line (after the data set's "reading" line), no stack trace. */
    static void assertOneLineError(CliTest.Result r) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("cleave circuits: error: ")).count(), r.err());
        assertEquals(0, r.err().lines().filter(l -> !l.startsWith("cleave circuits: error: ") && !l.contains(": reading ")).count(),
                r.err());
    }

    @Test
    void badChoicesAreOneLineErrors() {
        for (String[] args : new String[][] {
                {"--layers", "fc9", "--no-ecs"},
                {"--layers", "2", "--no-ecs"},
                {"--k", "2", "--ecs-layers", "0"},
                {"--k", "2", "--no-ecs", "--ecs-channels"}}) {
            CliTest.Result r = circuits(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
            assertOneLineError(r);
        }
        assertTrue(circuits("--layers", "fc9", "--no-ecs").err().contains("layer 'fc9' is not a linear or conv layer"));
        assertTrue(circuits("--k", "2", "--ecs-layers", "0").err().contains("layer 0 is not a linear layer"));
    }
}
