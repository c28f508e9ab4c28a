package dev.cleave.cli;

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

    @Option(names = "--threads", paramLabel = "N", description = "threads (default: all cores)")
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

    int threads() {
        return threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors());
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
     * provenance): written to {@code out} (atomically) when given, then printed as one JSON
     * line with --json, else as text.
     */
    void emit(PrintWriter w, Object result, Path out, Runnable text) throws IOException {
        if (out != null) {
            Results.write(out, result);
        }
        if (json) {
            w.println(Results.line(result));
        } else {
            text.run();
        }
        w.flush();
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
        });
    }
}
