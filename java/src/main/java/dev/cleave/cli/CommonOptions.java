package dev.cleave.cli;

import dev.cleave.nn.Backend;
import dev.cleave.nn.Backends;
import dev.cleave.nn.CudaProbe;
import dev.cleave.util.InvalidInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
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
    Integer device;

    /** The --device index, or CudaProbe.NONE for the first usable GPU. */
    int device() {
        if (device != null && device < 0) {
            throw new InvalidInputException("--device must be >= 0 (a GPU index from 'cleave doctor'), got " + device);
        }
        return device != null ? device : CudaProbe.NONE;
    }

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "the one seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--json", description = "machine-readable JSON output instead of text")
    boolean json;

    int threads() {
        return threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The first line every command prints: what it runs on. */
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
     * Emits a command's result: the command line is recorded in it, it is written to {@code out}
     * (atomically) when given, then printed as one JSON line with --json, else as text.
     */
    void emit(CommandSpec spec, PrintWriter w, ObjectNode result, Path out, Consumer<ObjectNode> text) throws IOException {
        result.put("command", "cleave " + String.join(" ", spec.commandLine().getParseResult().originalArgs()));
        if (out != null) {
            AtomicFiles.writeString(out, Json.writePretty(result) + "\n");
        }
        if (json) {
            w.println(Json.write(result));
        } else {
            text.accept(result);
        }
        w.flush();
    }

    /**
     * The spectral engine that --backend names for cluster, cocluster and their shuffle test:
     * cpu (the native engine), java (the reference), cuda (the GPU; where it cannot run, an error
     * with the reason), cuda-emu (the CUDA kernels emulated on the CPU: slow, for tests) or auto
     * (cuda when a usable GPU exists, else cpu, saying which on err). Never a quiet fall back.
     */
    static dev.cleave.cluster.Backend clusterBackend(String name, PrintWriter err) {
        return clusterBackend(name, CudaProbe.NONE, err);
    }

    /** As {@link #clusterBackend(String, PrintWriter)} on GPU {@code device} (CudaProbe.NONE: the first usable one). */
    static dev.cleave.cluster.Backend clusterBackend(String name, int device, PrintWriter err) {
        switch (name) {
            case "cpu":
            case "java":
            case "cuda-emu":
                return dev.cleave.cluster.Backend.forCompute(name);
            case "cuda": {
                CudaProbe probe = CudaProbe.probe(device);
                if (probe.problem() != null) {
                    throw new InvalidInputException("--backend cuda cannot run here: " + probe.problem()
                            + ". Use --backend cpu, or run 'cleave doctor' for details.");
                }
                return dev.cleave.cluster.Backend.CUDA;
            }
            case "auto": {
                CudaProbe probe = CudaProbe.probe(device);
                if (probe.problem() == null) {
                    err.println("backend auto: chose cuda (GPU " + probe.device() + ": " + probe.chosen().name() + ")");
                    err.flush();
                    return dev.cleave.cluster.Backend.CUDA;
                }
                err.println("backend auto: chose cpu (cuda not usable: " + probe.problem() + ")");
                err.flush();
                return dev.cleave.cluster.Backend.NATIVE;
            }
            default:
                throw new InvalidInputException("--backend " + name + " is not a backend: choose one of " + Backends.NAMES);
        }
    }

    /** The --backend name of a spectral engine (what the header line prints). */
    static String cliName(dev.cleave.cluster.Backend b) {
        return b == dev.cleave.cluster.Backend.NATIVE ? "cpu" : b.toString();
    }

    Backend createBackend(String name, int threadCount, PrintWriter err) {
        return Backends.create(name, threadCount, device(), msg -> {
            err.println(msg);
            err.flush();
        });
    }
}
