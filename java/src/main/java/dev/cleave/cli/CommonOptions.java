package dev.cleave.cli;

import dev.cleave.nn.Backend;
import dev.cleave.nn.Backends;
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

    Backend createBackend(String name, int threadCount, PrintWriter err) {
        return Backends.create(name, threadCount, msg -> {
            err.println(msg);
            err.flush();
        });
    }
}
