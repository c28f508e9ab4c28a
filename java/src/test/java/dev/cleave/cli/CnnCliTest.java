package dev.cleave.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Cifar10;
import dev.cleave.io.Safetensors;
import dev.cleave.io.SafetensorsFile;
import dev.cleave.nn.Arch;
import dev.cleave.train.ModelFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --arch, cifar10, cleave init and eval --predictions end to end, on CIFAR-format and IDX files the test writes. */
class CnnCliTest {
    @TempDir
    static Path tmp;
    static Path cifar, idx;

    /** CIFAR-format files: 12 images per training file, 20 test images; the class is the brightest channel band. */
    @BeforeAll
    static void writeData() throws IOException {
        cifar = tmp.resolve("cifar");
        Files.createDirectories(cifar);
        Random r = new Random(4);
        for (String f : Cifar10.TRAIN_FILES) {
            Cifar10.writeFile(cifar.resolve(f), images(12, r));
        }
        Cifar10.writeFile(cifar.resolve(Cifar10.TEST_FILE), images(20, r));
        idx = CliTest.writeDataSet(tmp.resolve("idx"), 300, 100);
    }

    static Cifar10.Images images(int n, Random r) {
        float[] px = new float[n * Cifar10.PIXELS];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(10);
            for (int p = 0; p < Cifar10.PIXELS; p++) {
                px[i * Cifar10.PIXELS + p] = Math.round(((p * 10 / Cifar10.PIXELS == labels[i] ? 0.6f : 0.1f) + 0.3f * r.nextFloat())
                        * 255) / 255f;
            }
        }
        return new Cifar10.Images(n, px, labels);
    }

    static CliTest.Result cli(String... args) {
        return CliTest.cli(args);
    }

    @Test
    void theHelpListsEveryPreset() {
        assertEquals(String.join(", ", Arch.PRESETS.keySet()), ArchHelp.PRESETS);
    }

    @Test
    void g25CnnTrainsOnCifarFormatFilesAndWritesAPyTorchStateDict() throws IOException {
        Path out = tmp.resolve("g25");
        CliTest.Result r = cli("train", "--arch", "g25-cnn", "--dataset", "cifar10", "--data-dir", cifar.toString(), "--epochs", "1",
                "--batch-size", "16", "--threads", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("g25-cnn = conv:32,relu,conv:64,bn,relu,maxpool,maxpool,flatten,linear:128,relu,linear:64,"
                + "relu,dropout:0.5,linear:10 on 3x32x32 (552842 parameters)"), r.out());
        assertTrue(r.out().contains("epoch 1/1"), r.out());
        SafetensorsFile f = Safetensors.read(out.resolve("model.safetensors"));
        assertEquals(ModelFile.NET_FORMAT, f.metadata().get("format"));
        assertEquals("3x32x32", f.metadata().get("input_shape"));
        assertArrayEquals(new long[] {64, 32, 3, 3}, f.tensor("layers.2.weight").shape());
        assertArrayEquals(new long[] {64}, f.tensor("layers.3.running_mean").shape());
        assertArrayEquals(new long[] {128, 4096}, f.tensor("layers.8.weight").shape());
        Path predictions = tmp.resolve("g25-predictions.csv");
        CliTest.Result e = cli("eval", out.resolve("model.safetensors").toString(), "--dataset", "cifar10", "--data-dir",
                cifar.toString(), "--predictions", predictions.toString());
        assertEquals(0, e.code(), e.err());
        List<String> lines = Files.readAllLines(predictions);
        assertEquals("index,label,predicted,loss", lines.get(0));
        assertEquals(21, lines.size());
        for (int i = 1; i < lines.size(); i++) {
            String[] p = lines.get(i).split(",");
            assertEquals(i - 1, Integer.parseInt(p[0]));
            int predicted = Integer.parseInt(p[2]);
            assertTrue(predicted >= 0 && predicted < 10 && Double.parseDouble(p[3]) >= 0, lines.get(i));
        }
        CliTest.Result resumed = cli("train", "--resume", out.toString(), "--epochs", "2");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming after epoch 1 of 2") && resumed.out().contains("epoch 2/2"), resumed.out());
    }

    @Test
    void aCnnTrainsOnTheImagesOfTheFilesAndResumesExactly() throws IOException {
        String arch = "conv:4,relu,maxpool,dropout:0.2,flatten,linear:10";
        String[] common = {"train", "--arch", arch, "--dataset", "mnist-idx", "--data-dir", idx.toString(), "--batch-size", "25", "--lr",
                "0.01", "--seed", "5", "--threads", "2", "--l2", "1e-4", "--clusterable-init"};
        Path full = tmp.resolve("full"), part = tmp.resolve("part");
        CliTest.Result a = cli(concat(common, "--epochs", "3", "--out", full.toString()));
        assertEquals(0, a.code(), a.err() + a.out());
        assertTrue(a.out().contains("on 1x8x8"), a.out());
        assertEquals(0, cli(concat(common, "--epochs", "1", "--out", part.toString())).code());
        CliTest.Result b = cli("train", "--resume", part.toString(), "--epochs", "3");
        assertEquals(0, b.code(), b.err());
        SafetensorsFile fa = Safetensors.read(full.resolve("model.safetensors")), fb = Safetensors.read(part.resolve("model.safetensors"));
        for (String name : List.of("layers.0.weight", "layers.0.bias", "layers.5.weight", "layers.5.bias")) {
            assertArrayEquals(fa.tensor(name).asFloats(), fb.tensor(name).asFloats(), name);
        }
        CliTest.Result e = cli("eval", full.resolve("model.safetensors").toString(), "--dataset", "mnist-idx", "--data-dir",
                idx.toString());
        assertEquals(0, e.code(), e.err());
        double acc = Double.parseDouble(e.out().split("accuracy ")[1].split(",")[0]);
        assertTrue(acc > 0.5, "three epochs of a learnable toy problem beat chance (0.1) clearly: " + e.out());
        assertTrue(e.out().contains("on 1x8x8"), e.out());
        CliTest.Result withArch = cli("train", "--resume", part.toString(), "--arch", arch);
        assertEquals(2, withArch.code());
        assertTrue(withArch.err().contains("--arch"), withArch.err());
    }

    @Test
    void initWritesTheModelTrainStartsFrom() throws IOException {
        Path file = tmp.resolve("init.safetensors");
        CliTest.Result r = cli("init", "--arch", "g24-cnn", "--dataset", "cifar10", "--seed", "9", "--out", file.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("271424 parameters"), r.out());
        SafetensorsFile f = Safetensors.read(file);
        assertEquals("0", f.metadata().get("epochs_done"));
        assertArrayEquals(new long[] {64, 4096}, f.tensor("layers.4.weight").shape());
        assertTrue(!f.tensors().containsKey("layers.4.bias"), "fc1 has no bias");
        Path again = tmp.resolve("init2.safetensors");
        assertEquals(0, cli("init", "--arch", "g24-cnn", "--dataset", "cifar10", "--seed", "9", "--out", again.toString()).code());
        assertArrayEquals(f.tensor("layers.0.weight").asFloats(), Safetensors.read(again).tensor("layers.0.weight").asFloats());
        Path mlp = tmp.resolve("mlp.safetensors");
        assertEquals(0, cli("init", "--out", mlp.toString()).code());
        assertEquals(ModelFile.FORMAT, Safetensors.read(mlp).metadata().get("format"));
        CliTest.Result e = cli("eval", file.toString(), "--dataset", "cifar10", "--data-dir", cifar.toString());
        assertEquals(0, e.code(), e.err());
        CliTest.Result wrong = cli("eval", file.toString(), "--dataset", "mnist-idx", "--data-dir", idx.toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("3x32x32") && wrong.err().contains("1x8x8"), wrong.err());
    }

    @Test
    void badArchitecturesAndMissingDataAreOneLineErrors() {
        CliTest.Result bad = cli("train", "--arch", "conv:16,relu,maxpol,flatten,linear:10", "--dataset", "mnist-idx", "--data-dir",
                idx.toString(), "--out", tmp.resolve("bad").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("token 3 'maxpol'") && !bad.err().contains("\tat "), bad.err());
        CliTest.Result vgg = cli("init", "--arch", "vgg16-cifar", "--out", tmp.resolve("vgg.safetensors").toString());
        assertEquals(2, vgg.code());
        assertTrue(vgg.err().contains("does not fit"), vgg.err());
        CliTest.Result both = cli("train", "--arch", "f21-cnn", "--layers", "784,10", "--out", tmp.resolve("both").toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("not both"), both.err());
        CliTest.Result dropout = cli("train", "--arch", "f21-cnn", "--dropout", "0.5", "--out", tmp.resolve("d").toString());
        assertEquals(2, dropout.code());
        assertTrue(dropout.err().contains("f21-cnn-dropout"), dropout.err());
        CliTest.Result noCifar = cli("train", "--arch", "g25-cnn", "--dataset", "cifar10", "--out", tmp.resolve("c").toString());
        assertEquals(2, noCifar.code());
        assertTrue(noCifar.err().contains("data_batch_1.bin") && noCifar.err().contains("cs.toronto.edu"), noCifar.err());
        CliTest.Result mlpOnCifar = cli("train", "--dataset", "cifar10", "--data-dir", cifar.toString(), "--out",
                tmp.resolve("m").toString());
        assertEquals(2, mlpOnCifar.code());
        assertTrue(mlpOnCifar.err().contains("3072"), mlpOnCifar.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
