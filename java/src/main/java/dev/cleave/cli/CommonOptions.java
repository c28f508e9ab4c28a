package dev.cleave.cli;

import dev.cleave.nn.Backend;
import dev.cleave.nn.Backends;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** Options every computing command shares: backend, threads, seed, JSON output. */
final class CommonOptions {
    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME",
            description = "java | cpu | cuda | auto (default: ${DEFAULT-VALUE})")
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

    Backend createBackend(String name, int threadCount, PrintWriter err) {
        return Backends.create(name, threadCount, msg -> {
            err.println(msg);
            err.flush();
        });
    }
}
