package dev.cleave.cli;

import dev.cleave.io.AtomicFiles;
import dev.cleave.nn.CudaProbe;
import dev.cleave.nn.Device;
import dev.cleave.pipeline.Results;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every computing command shares: backend, threads, seed, JSON output. */
final class CommonOptions {
    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "java | cpu | cuda | auto | cuda-emu (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--threads", paramLabel = "N", description = "threads (default: all cores, fewer while other processes keep cores busy; the results are those of all cores)")
    Integer threads;

    @Option(names = "--device", paramLabel = "N",
            description = "the GPU for cuda and auto: an index among the visible GPUs (see 'cleave doctor'; "
                    + "CUDA_VISIBLE_DEVICES decides which are visible). Default: the first usable one")
    Integer gpu;

    /** The --device index, or CudaProbe.NONE for the first usable GPU. */
    int gpu() {
        if (gpu != null && gpu < 0) {
            throw new InvalidInputException("--device must be >= 0 (a GPU index from 'cleave doctor'), got " + gpu);
        }
        return gpu != null ? gpu : CudaProbe.NONE;
    }

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "the one seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "machine-readable JSON output instead of text")
    boolean json;

    /** The --threads count: all cores when it is left out; otherwise 1..1024 (0 is an error, not "all"). */
    int threads() {
        if (threads == null) {
            return Math.max(1, Runtime.getRuntime().availableProcessors());
        }
        if (threads < 1 || threads > 1024) {
            throw new InvalidInputException("--threads must be in [1, 1024], got " + threads + " (leave it out to use all "
                    + Runtime.getRuntime().availableProcessors() + " cores)");
        }
        return threads;
    }

    /** A --n-init count of k-means++ restarts: 1..100000. */
    static int nInit(int n) {
        if (n < 1 || n > 100_000) {
            throw new InvalidInputException("--n-init (k-means++ restarts) must be in [1, 100000], got " + n);
        }
        return n;
    }

    /** A --slice-norm name: l1, max-col-sum or l2. */
    static dev.cleave.graph.SliceNorm sliceNorm(String name) {
        try {
            return dev.cleave.graph.SliceNorm.parse(name);
        } catch (InvalidInputException e) {
            throw new InvalidInputException("--slice-norm must be l1, max-col-sum or l2, got '" + name + "'");
        }
    }

    /** A --shuffles count: 0 (no shuffle test) or 1..100000. */
    static int shuffles(int n) {
        if (n < 0 || n > 100_000) {
            throw new InvalidInputException("--shuffles must be in [0, 100000] (0: no shuffle test), got " + n);
        }
        return n;
    }

    /** The first line every command prints: what it runs on. */
    void printHeader(PrintWriter out, String command, Device device, long seedValue) {
        printHeader(out, command, device.toString(), device.threads(), seedValue);
    }

    /** The header with the backend as a word (doctor's "auto", which it reports on rather than resolves to). */
    void printHeader(PrintWriter out, String command, String backendName, int threadCount, long seedValue) {
        String line = "cleave " + command + ": backend=" + backendName + " threads=" + threadCount + " seed=" + seedValue;
        if (json) {
            out.println("{\"command\":\"" + command + "\",\"backend\":\"" + backendName + "\",\"threads\":" + threadCount
                    + ",\"seed\":" + seedValue + "}");
        } else {
            out.println(line);
        }
        out.flush();
    }

    /**
     * Emits a command's result record (its JSON carries the command line derived from its
     * provenance): printed as one JSON line with --json, else as text, then written to
     * {@code out} (atomically) when given. The result is printed first so that a failed write
     * (a full disk) never loses it.
     */
    void emit(PrintWriter w, Object result, Path out, Runnable text) {
        if (json) {
            w.println(Results.line(result));
        } else {
            text.run();
        }
        w.flush();
        if (out != null) {
            try {
                Results.write(out, result);
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new InvalidInputException("--out " + out + ": cannot write the result (" + dev.cleave.io.InputFiles.reason(
                        e instanceof java.io.UncheckedIOException u ? u.getCause() : (IOException) e)
                        + "); it is printed above" + (json ? "" : " (run with --json for all of it)") + ": free space or choose "
                        + "another --out", e);
            }
        }
    }

    /** The first lines of a model command's text output: the layers read, and any assumption. */
    static void printLayers(PrintWriter w, String layers, String assumption) {
        if (layers != null) {
            w.println(layers);
        }
        if (assumption != null) {
            w.println(assumption);
        }
    }

    /** Fails before any work when --out cannot be written. */
    static void checkOut(Path out) {
        if (out != null) {
            AtomicFiles.ensureWritableFile(out, "--out");
        }
    }

    /**
     * The device --backend and --threads name, resolved once: java, cpu, cuda (where it cannot
     * run, an error with the reason), cuda-emu (the CUDA kernels emulated on the CPU: slow, for
     * tests) or auto (cuda when a usable GPU exists, else cpu, saying which on err). Never a
     * quiet fall back. Everything the command runs takes this value.
     */
    Device device(PrintWriter err) {
        return device(backend, threads(), err);
    }

    /**
     * {@link #device(PrintWriter)} for a given name and thread count (a resumed run's recorded
     * ones), on the --device GPU.
     */
    Device device(String name, int threadCount, PrintWriter err) {
        return Device.resolve(name, threadCount, gpu(), msg -> {
            err.println(msg);
            err.flush();
        }).withLoadAdaptiveThreads(threads == null); // left out: fewer threads while other processes hold cores
    }
}
