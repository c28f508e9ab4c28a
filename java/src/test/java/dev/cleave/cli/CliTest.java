package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Idx;
import dev.cleave.testing.EmuLaunches;
import dev.cleave.train.ModelFile;
import dev.cleave.train.RunDir;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end on a small IDX data set: train, resume, eval, and the errors users meet. */
class CliTest {
    @TempDir
    static Path tmp;
    static Path data;

    /** Ten classes of 8x8 images: a bright pixel band whose position is the class. */
    @BeforeAll
    static void writeData() throws IOException {
        data = writeDataSet(tmp.resolve("data"), 600, 200);
    }

    static void write(String prefix, int n, long seed) throws IOException {
        write(data, prefix, n, seed);
    }

    /** n images and labels of that data set into {@code dir} as gzipped IDX files named {@code prefix}-images/labels. */
    /** A data folder {@code dir} of {@code train} training and {@code test} test 8x8 images (seeds 1 and 2); returns it. */
    static Path writeDataSet(Path dir, int train, int test) throws IOException {
        return writeDataSet(dir, train, test, 1, 8);
    }

    /** As {@link #writeDataSet(Path, int, int)}, images side x side, seeds {@code seed} and {@code seed + 1}. */
    static Path writeDataSet(Path dir, int train, int test, long seed, int side) throws IOException {
        Files.createDirectories(dir);
        write(dir, "train", train, seed, side);
        write(dir, "t10k", test, seed + 1, side);
        return dir;
    }

    static void write(Path dir, String prefix, int n, long seed) throws IOException {
        write(dir, prefix, n, seed, 8);
    }

    /** As above, with side x side images. */
    static void write(Path dir, String prefix, int n, long seed, int side) throws IOException {
        Random r = new Random(seed);
        int pixels = side * side;
        float[] px = new float[n * pixels];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(10);
            for (int p = 0; p < pixels; p++) {
                float v = (p * 10 / pixels == labels[i] ? 0.7f : 0.1f) + 0.2f * r.nextFloat();
                px[i * pixels + p] = Math.round(v * 255) / 255f;
            }
        }
        Idx.writeImages(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new Idx.Images(n, side, side, px), true);
        Idx.writeLabels(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), labels, true);
    }

    record Result(int code, String out, String err) {}

    static Result cli(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int code = Main.run(args);
            return new Result(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** A small training command; an option in {@code extra} replaces its default here (each option is given once). */
    static String[] train(Path out, String... extra) {
        String[] defaults = {"--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,32,10", "--batch-size", "50",
                "--lr", "0.01", "--seed", "3", "--threads", "2", "--dropout", "0.1", "--out", out.toString()};
        List<String> given = List.of(extra);
        List<String> args = new java.util.ArrayList<>(List.of("train"));
        for (int i = 0; i < defaults.length; i += 2) {
            if (!given.contains(defaults[i])) {
                args.add(defaults[i]);
                args.add(defaults[i + 1]);
            }
        }
        args.addAll(given);
        return args.toArray(String[]::new);
    }

    @Test
    void trainWritesEverythingAndResumeMatchesUninterrupted() throws IOException {
        Result full = cli(train(tmp.resolve("full"), "--epochs", "3", "--json"));
        assertEquals(0, full.code(), full.err());
        String[] lines = full.out().strip().split("\n");
        assertEquals("{\"command\":\"train\",\"backend\":\"cpu\",\"threads\":2,\"seed\":3}", lines[0]);
        assertEquals(4, lines.length, full.out());
        assertTrue(lines[3].contains("\"epoch\":3"), lines[3]);
        for (String f : List.of(RunDir.CONFIG, RunDir.MODEL, RunDir.METRICS, RunDir.CHECKPOINT)) {
            assertTrue(Files.exists(tmp.resolve("full").resolve(f)), f);
        }
        assertEquals(3, Files.readAllLines(tmp.resolve("full/metrics.jsonl")).size());

        // An "interrupted" run: 1 epoch, then resumed to 3.
        assertEquals(0, cli(train(tmp.resolve("part"), "--epochs", "1")).code());
        Result resumed = cli("train", "--resume", tmp.resolve("part").toString(), "--epochs", "3");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming after epoch 1 of 3"), resumed.out());
        assertEquals(3, Files.readAllLines(tmp.resolve("part/metrics.jsonl")).size());
        try (ModelFile.Loaded a = ModelFile.load(tmp.resolve("full/model.safetensors"));
                ModelFile.Loaded b = ModelFile.load(tmp.resolve("part/model.safetensors"))) {
            for (int l = 0; l < a.model().layers(); l++) {
                assertArrayEquals(a.model().weight(l).toArray(), b.model().weight(l).toArray(), "layer " + l);
                assertArrayEquals(a.model().bias(l).toArray(), b.model().bias(l).toArray(), "bias " + l);
            }
            assertEquals(3, a.config().seed());
            assertEquals("64-32-10", a.metadata().get("widths"));
        }

        Result eval = cli("eval", tmp.resolve("full/model.safetensors").toString(), "--dataset", "mnist-idx", "--data-dir",
                data.toString());
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().startsWith("cleave eval: backend=cpu"), eval.out());
        double acc = Double.parseDouble(eval.out().split("accuracy ")[1].split(",")[0]);
        assertTrue(acc > 0.8, "a learnable toy problem should be learnt: " + eval.out());
        assertTrue(eval.out().contains("class  9"), eval.out());
    }

    @Test
    void refusesToOverwriteARun() {
        assertEquals(0, cli(train(tmp.resolve("once"), "--epochs", "1")).code());
        Result again = cli(train(tmp.resolve("once"), "--epochs", "1"));
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already holds a training run"), again.err());
    }

    @Test
    void badOptionsGetOneClearMessage() {
        Result r = cli(train(tmp.resolve("bad1"), "--batch-size", "0"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--batch-size must be in [1, 65536], got 0"), r.err());
        r = cli(train(tmp.resolve("bad2"), "--lr", "-1"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--lr must be a positive number"), r.err());
        r = cli("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--epochs", "1", "--out", tmp.resolve("bad3").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("first --layers width must be 64"), r.err());
        r = cli(train(tmp.resolve("bad4"), "--backend", "tpu"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--backend tpu is not a backend"), r.err());
        assertFalse(Files.exists(tmp.resolve("bad4")), "a failed start must not leave a run folder");
        r = cli("train", "--resume", tmp.resolve("nothing-here").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not a Cleave training run"), r.err());
        r = cli(train(tmp.resolve("bad5"), "--spectral-lambda", "0.1", "--spectral-rescale", "sometimes"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--spectral-rescale must be one of canonical, compensate, none; got 'sometimes'"), r.err());
        r = cli(train(tmp.resolve("bad6"), "--spectral-rescale", "none"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--spectral-rescale only applies to the spectral regulariser"), r.err());
    }

    @Test
    void unwritableOutputFolderIsAClearError() throws IOException {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        Result r = cli(train(file.resolve("sub"), "--epochs", "1"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--out"), r.err());
    }

    @Test
    void cudaOnAMachineWithoutOneSaysWhy() {
        Result r = cli(train(tmp.resolve("cuda"), "--backend", "cuda", "--epochs", "1"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--backend cuda cannot run here: "), r.err());
        assertFalse(Files.exists(tmp.resolve("cuda")));
    }

    @Test
    void evalOfACorruptModelNamesTheFile() throws IOException {
        Path bad = tmp.resolve("bad.safetensors");
        Files.write(bad, new byte[] {1, 2, 3});
        Result r = cli("eval", bad.toString(), "--dataset", "mnist-idx", "--data-dir", data.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(bad.toString()), r.err());
    }

    @Test
    void doctorReportsLibrariesAndCuda() {
        Result r = cli("doctor");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("cleave doctor: backend=auto"), r.out());
        assertTrue(r.out().contains("libcleave_cpu.so"), r.out());
        assertTrue(r.out().contains("cuda_problem"), r.out());
    }

    @Test
    void clusterCoclusterCircuitsAndReportEndToEnd() throws IOException {
        Path base = tmp.resolve("r-base"), mod = tmp.resolve("r-mod");
        String[] common = {"--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,24,16,10", "--epochs", "3",
                "--lr", "0.01", "--batch-size", "50", "--threads", "2"};
        List<String> a = new java.util.ArrayList<>(List.of("train"));
        a.addAll(List.of(common));
        List<String> modular = new java.util.ArrayList<>(a);
        a.addAll(List.of("--out", base.toString()));
        assertEquals(0, cli(a.toArray(String[]::new)).code());
        a = modular;
        a.addAll(List.of("--modular", "--modular-k", "2", "--warmup-epochs", "1", "--out", mod.toString()));
        Result trained = cli(a.toArray(String[]::new));
        assertEquals(0, trained.code(), trained.err());
        assertTrue(trained.out().contains("C 1="), trained.out());

        for (Path run : List.of(base, mod)) {
            Result c = cli("cluster", run.resolve("model.safetensors").toString(), "--k", "4", "--shuffles", "5", "--out",
                    run.resolve("cluster.json").toString());
            assertEquals(0, c.code(), c.err());
            assertTrue(c.out().contains("shuffle test (layer, 5 shuffles)"), c.out());
        }
        Result co = cli("cocluster", base.resolve("model.safetensors").toString(), "--k", "2", "--out",
                base.resolve("cocluster.json").toString());
        assertEquals(0, co.code(), co.err());
        assertTrue(co.out().contains("layers.1.weight: C = "), co.out());
        // The same on the emulated CUDA kernels (cocluster and the cluster shuffle test): the same answers.
        Result coEmu = cli("cocluster", base.resolve("model.safetensors").toString(), "--k", "2", "--backend", "cuda-emu");
        assertEquals(0, coEmu.code(), coEmu.err());
        assertTrue(coEmu.out().startsWith("cleave cocluster: backend=cuda-emu"), coEmu.out());
        assertEquals(co.out().lines().skip(1).toList(), coEmu.out().lines().skip(1).toList());
        Result cEmu = cli("cluster", base.resolve("model.safetensors").toString(), "--k", "4", "--shuffles", "5", "--json",
                "--backend", "cuda-emu");
        Result cCpu = cli("cluster", base.resolve("model.safetensors").toString(), "--k", "4", "--shuffles", "5", "--json");
        assertEquals(0, cEmu.code(), cEmu.err());
        String labelsEmu = cEmu.out().substring(cEmu.out().indexOf("\"labels\""), cEmu.out().indexOf("]", cEmu.out().indexOf("\"labels\"")));
        String labelsCpu = cCpu.out().substring(cCpu.out().indexOf("\"labels\""), cCpu.out().indexOf("]", cCpu.out().indexOf("\"labels\"")));
        assertEquals(labelsCpu, labelsEmu);
        Result circ = cli("circuits", base.resolve("model.safetensors").toString(), "--dataset", "mnist-idx", "--data-dir",
                data.toString(), "--clusters", base.resolve("cocluster.json").toString(), "--images-per-label", "5", "--out",
                base.resolve("circuits.json").toString());
        assertEquals(0, circ.code(), circ.err());
        assertTrue(circ.out().contains("effective circuit size per label"), circ.out());
        circ = cli("circuits", mod.resolve("model.safetensors").toString(), "--dataset", "mnist-idx", "--data-dir", data.toString(),
                "--images-per-label", "5", "--json", "--out", mod.resolve("circuits.json").toString());
        assertEquals(0, circ.code(), circ.err());
        assertTrue(circ.out().contains("\"clusters_from\":\"model metadata (modular training)\""), circ.out());

        Path html = tmp.resolve("report.html");
        Result rep = cli("report", base.toString(), mod.toString(), "--out", html.toString());
        assertEquals(0, rep.code(), rep.err());
        String page = Files.readString(html);
        assertTrue(page.startsWith("<!DOCTYPE html>") && page.strip().endsWith("</html>"));
        for (String id : List.of("numbers", "training", "weights", "spectrum", "shuffle", "ablation", "ecs")) {
            assertTrue(page.contains("id=\"" + id + "\""), "section " + id);
        }
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("<script") || page.contains("<link"),
                "the report must be self-contained");
        int images = page.split("<img ", -1).length - 1;
        // loss, accuracy, C; 2 runs x 1 clustered layer (hidden-to-hidden: layer 1); spectrum; 2 shuffle histograms;
        // 2 ablations; ECS
        assertEquals(3 + 2 + 1 + 2 + 2 + 1, images, "plots in the report");
        assertFalse(page.contains("No cluster results") || page.contains("No ablation") || page.contains("No circuit"));
    }

    @Test
    void clusterAnyGraphFromMatrixMarket() throws IOException {
        Path mtx = tmp.resolve("two-triangles.mtx");
        Files.writeString(mtx, "%%MatrixMarket matrix coordinate real symmetric\n6 6 7\n2 1 1\n3 1 1\n3 2 1\n5 4 1\n6 4 1\n6 5 1\n4 3 0.01\n");
        Result r = cli("cluster", "--graph", mtx.toString(), "--k", "2", "--json");
        assertEquals(0, r.code(), r.err());
        String json = r.out().strip().split("\n")[1];
        assertTrue(json.contains("\"labels\":[0,0,0,1,1,1]"), json);
        assertTrue(json.contains("\"ncut\":"), json);
    }

    private Path twoTriangles() throws IOException {
        Path mtx = tmp.resolve("two-triangles-b.mtx");
        Files.writeString(mtx, "%%MatrixMarket matrix coordinate real symmetric\n6 6 7\n2 1 1\n3 1 1\n3 2 1\n5 4 1\n6 4 1\n6 5 1\n4 3 0.01\n");
        return mtx;
    }

    @Test
    void clusterBackendChoosesTheEngineAndTheHeaderSaysWhich() throws IOException {
        Path mtx = twoTriangles();
        for (String b : new String[] {"cpu", "java", "cuda-emu"}) {
            Result r = cli("cluster", "--graph", mtx.toString(), "--k", "2", "--json", "--backend", b, "--threads", "1");
            assertEquals(0, r.code(), r.err());
            String[] lines = r.out().strip().split("\n");
            assertEquals("{\"command\":\"cluster\",\"backend\":\"" + b + "\",\"threads\":1,\"seed\":0}", lines[0]);
            assertTrue(lines[1].contains("\"labels\":[0,0,0,1,1,1]"), lines[1]);
            assertTrue(lines[1].contains("\"backend\":\"" + b + "\""), lines[1]); // the options record the same device
        }
    }

    @Test
    void clusterWithCudaOnAMachineWithoutOneSaysWhy() throws IOException {
        dev.cleave.nn.CudaProbe probe = dev.cleave.nn.CudaProbe.probe();
        org.junit.jupiter.api.Assumptions.assumeTrue(probe.problem() != null, "this machine has a usable GPU");
        Result r = cli("cluster", "--graph", twoTriangles().toString(), "--k", "2", "--backend", "cuda");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--backend cuda cannot run here: " + probe.problem()), r.err());
        assertFalse(r.out().contains("backend=cpu"), "never a quiet fall back: " + r.out());
        Result auto = cli("cluster", "--graph", twoTriangles().toString(), "--k", "2", "--backend", "auto");
        assertEquals(0, auto.code(), auto.err());
        assertTrue(auto.err().contains("backend auto: chose cpu (cuda not usable: " + probe.problem() + ")"), auto.err());
        assertTrue(auto.out().startsWith("cleave cluster: backend=cpu"), auto.out());
        Result bad = cli("cluster", "--graph", twoTriangles().toString(), "--k", "2", "--backend", "tpu");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--backend tpu is not a backend"), bad.err());
    }

    @Test
    void evalBlamesTheModelFileForWeightsThatOverflowOrAreNotFinite() throws IOException {
        for (float big : new float[] {3e38f, Float.POSITIVE_INFINITY}) {
            float[] w = new float[10 * 64];
            java.util.Arrays.fill(w, big);
            Path file = tmp.resolve("big-" + big + ".safetensors");
            try (dev.cleave.nn.Mlp m = dev.cleave.nn.Mlp.fromMatrices(List.of(new dev.cleave.util.FloatMatrix(10, 64, w)),
                    List.of(new float[10]))) {
                if (Float.isFinite(big)) {
                    ModelFile.save(file, m, null, java.util.Map.of());
                } else {
                    java.util.LinkedHashMap<String, dev.cleave.io.Safetensors.Tensor> t = new java.util.LinkedHashMap<>();
                    t.put("layers.0.weight", dev.cleave.io.Safetensors.Tensor.of(new dev.cleave.util.FloatMatrix(10, 64, w)));
                    t.put("layers.0.bias", dev.cleave.io.Safetensors.Tensor.ofFloats(new long[] {10}, new float[10]));
                    dev.cleave.io.Safetensors.write(file, t, java.util.Map.of());
                }
            }
            Result r = cli("eval", file.toString(), "--dataset", "mnist-idx", "--data-dir", data.toString());
            assertEquals(2, r.code(), r.err());
            String expected = Float.isFinite(big) ? file + ": the model's outputs overflow to non-finite values (largest |value| "
                    + "3.00e+38 in layers.0.weight)" : file + ": tensor 'layers.0.weight' [10, 64] holds Infinity at index 0";
            List<String> errors = r.err().lines().filter(l -> l.startsWith("cleave eval: ")).toList();
            assertEquals(1, errors.size(), r.err());
            assertTrue(errors.get(0).startsWith("cleave eval: error: " + expected), r.err());
            assertFalse(r.err().contains("learning rate") || r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void layersTooLargeForMemoryAreRefusedBeforeAllocating() {
        Result r = cli("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "784,50000,50000,10",
                "--out", tmp.resolve("huge").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--layers 784,50000,50000,10: layer 1's weight matrix would hold"), r.err());
        r = cli("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,1048576,2000,10",
                "--out", tmp.resolve("wide").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--layers 64,1048576,2000,10: training needs about"), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
    }

    @Test
    void reportReadsARunWhoseLastMetricsLineIsTorn() throws IOException {
        Path run = tmp.resolve("torn-report");
        assertEquals(0, cli(train(run, "--epochs", "2")).code());
        Files.writeString(run.resolve(RunDir.METRICS), "{\"epoch\":3,\"train_lo", java.nio.file.StandardOpenOption.APPEND);
        Result r = cli("report", run.toString(), "--out", tmp.resolve("torn-report.html").toString());
        assertEquals(0, r.code(), r.err());
        Result resumed = cli("train", "--resume", run.toString(), "--epochs", "3");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(3, Files.readAllLines(run.resolve(RunDir.METRICS)).size());
    }

    /** The spectral engine's kernels on the dense path (small graphs) and k-means' assignment. */
    static final String[] SPECTRAL_KERNELS = {"spectral_dense_kernel", "spectral_scale_kernel", "kmeans_assign_kernel"};
    /** Every kernel a training step with dropout, penalties and the enmeshment loss launches. */
    // the fused training step (dropout in gemm_kernel's epilogue); softmax_xent_kernel: the evaluation
    static final String[] TRAINING_KERNELS = {"gemm_kernel", "linear_backward_grouped", "softmax_xent_record_kernel",
        "softmax_xent_kernel", "weight_penalty_kernel", "adam_update_multi_kernel", "enmeshment_sums_kernel",
        "enmeshment_update_kernel"};

    /**
     * --backend cuda-emu on train, cluster, cocluster and circuits: every spectral and training op
     * runs on the emulated CUDA kernels, as the emulator's launch counts show (circuits
     * co-clusters there too: it used to co-cluster on the CPU whatever --backend said).
     */
    @Test
    void cudaEmuRunsEverySpectralAndTrainingOpOnTheEmulator() throws IOException {
        Path run = tmp.resolve("emu-run");
        EmuLaunches.reset();
        Result t = cli("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,24,16,10", "--epochs", "2",
                "--batch-size", "50", "--lr", "0.01", "--dropout", "0.1", "--l2", "1e-4", "--threads", "2", "--backend", "cuda-emu",
                "--modular", "--modular-k", "2", "--warmup-epochs", "1", "--spectral-lambda", "0.1", "--spectral-k", "2",
                "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().startsWith("cleave train: backend=cuda-emu threads=2"), t.out());
        assertEquals(dev.cleave.nn.Device.Kind.CUDA_EMU, RunDir.open(run).readConfig().backend(), "the config records the device");
        java.util.Map<String, Long> launched = EmuLaunches.perKernel();
        EmuLaunches.assertLaunched(launched, "train", TRAINING_KERNELS);
        EmuLaunches.assertLaunched(launched, "train (co-clustering, spectral regulariser)", SPECTRAL_KERNELS);

        Path model = run.resolve("model.safetensors");
        EmuLaunches.reset();
        Result c = cli("cluster", model.toString(), "--k", "3", "--shuffles", "2", "--backend", "cuda-emu");
        assertEquals(0, c.code(), c.err());
        EmuLaunches.assertLaunched(EmuLaunches.perKernel(), "cluster", SPECTRAL_KERNELS);

        EmuLaunches.reset();
        Result co = cli("cocluster", model.toString(), "--k", "2", "--backend", "cuda-emu");
        assertEquals(0, co.code(), co.err());
        EmuLaunches.assertLaunched(EmuLaunches.perKernel(), "cocluster", SPECTRAL_KERNELS);

        // a model without clusters of its own: circuits co-clusters it, then ablates on the device
        Path plain = tmp.resolve("emu-plain");
        assertEquals(0, cli("train", "--dataset", "mnist-idx", "--data-dir", data.toString(), "--layers", "64,24,16,10", "--epochs",
                "1", "--batch-size", "50", "--threads", "2", "--out", plain.toString()).code());
        EmuLaunches.reset();
        Result circ = cli("circuits", plain.resolve("model.safetensors").toString(), "--dataset", "mnist-idx", "--data-dir",
                data.toString(), "--k", "2", "--images-per-label", "2", "--backend", "cuda-emu");
        assertEquals(0, circ.code(), circ.err());
        assertTrue(circ.out().startsWith("cleave circuits: backend=cuda-emu"), circ.out());
        java.util.Map<String, Long> circuits = EmuLaunches.perKernel();
        EmuLaunches.assertLaunched(circuits, "circuits (co-clustering)", SPECTRAL_KERNELS);
        EmuLaunches.assertLaunched(circuits, "circuits (ablation)", "gemm_kernel", "softmax_xent_kernel");
    }

    /**
     * The demo on cuda-emu (a Fashion-MNIST-shaped set of 28x28 images, one epoch per run, two
     * shuffles): both trainings, the clusterings with their shuffle tests, the co-clustering and
     * both circuits launch their kernels on the emulator.
     */
    @Test
    void demoOnCudaEmuRunsItsTrainingAndSpectralOpsOnTheEmulator() throws IOException {
        Path fashion = writeDataSet(tmp.resolve("fashion-28"), 120, 40, 5, 28);
        EmuLaunches.reset();
        Result d = cli("demo", "--out", tmp.resolve("emu-demo").toString(), "--data-dir", fashion.toString(), "--no-install",
                "--epochs", "1", "--shuffles", "2", "--ecs-images", "1", "--threads", "2", "--backend", "cuda-emu");
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().startsWith("cleave demo: backend=cuda-emu threads=2"), d.out());
        java.util.Map<String, Long> launched = EmuLaunches.perKernel();
        EmuLaunches.assertLaunched(launched, "demo (training)", "gemm_kernel", "linear_backward_grouped",
                "softmax_xent_record_kernel", "softmax_xent_kernel", "adam_update_multi_kernel", "enmeshment_sums_kernel",
                "enmeshment_update_kernel");
        EmuLaunches.assertLaunched(launched, "demo (clustering, co-clustering)", SPECTRAL_KERNELS);
        for (String run : new String[] {"baseline", "modular"}) {
            String command = Files.readString(tmp.resolve("emu-demo").resolve(run).resolve("cluster.json"));
            assertTrue(command.contains("--backend cuda-emu --threads 2"), run + " cluster.json: " + command);
        }
    }

    /**
     * demo --arch g24-cnn on a small 28x28 set (two epochs, one of warm-up): both runs train G24's
     * CNN at batch 64, the modular one with the loss on fc2 (layers.6) only, and the table and
     * the records say so.
     */
    @Test
    void demoOfG24CnnTrainsPlainAndModularNetworksAndAnalysesBoth() throws IOException {
        Path fashion = writeDataSet(tmp.resolve("fashion-28-cnn"), 128, 40, 5, 28);
        Path out = tmp.resolve("cnn-demo");
        Result d = cli("demo", "--arch", "g24-cnn", "--out", out.toString(), "--data-dir", fashion.toString(), "--no-install",
                "--epochs", "2", "--shuffles", "2", "--ecs-images", "1", "--threads", "2");
        assertEquals(0, d.code(), d.err());
        assertTrue(d.out().contains("--arch g24-cnn --epochs 2 --batch-size 64 --modular-lambda 20.0 --modular-k 4 --modular-layers 6"),
                d.out());
        assertTrue(d.out().contains("C (layers 6)"), d.out());
        String config = Files.readString(out.resolve("modular").resolve("config.json"));
        assertTrue(config.contains("\"arch\" : \"g24-cnn\""), config);
        String metrics = Files.readString(out.resolve("modular").resolve("metrics.jsonl"));
        assertTrue(metrics.contains("\"clusterability\":{\"layers.6.weight\""), metrics);
        String co = Files.readString(out.resolve("baseline").resolve("cocluster.json"));
        assertTrue(co.contains("\"layer\" : 6"), co);
        assertTrue(Files.size(out.resolve("report.html")) > 1000);
        Result again = cli("demo", "--arch", "nonsense", "--out", tmp.resolve("cnn-demo-2").toString(), "--data-dir",
                fashion.toString(), "--no-install");
        assertEquals(2, again.code(), again.err());
        assertEquals(1, again.err().strip().lines().count(), again.err());
    }
}
