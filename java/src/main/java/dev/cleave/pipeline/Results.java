package dev.cleave.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one writer (and reader) of the pipeline's result files: a result record
 * ({@link ClusterRun}, {@link CoclusterRun}, {@link CircuitsRun}) to JSON and back, through the
 * record types themselves (Jackson databind, the project's {@link Json} configuration).
 */
public final class Results {
    /** A run folder's clustering ({@link ClusterRun}), as {@code cleave cluster --out} and the demo write it. */
    public static final String CLUSTER_FILE = "cluster.json";
    /** A run folder's co-clusters ({@link CoclusterRun}). */
    public static final String COCLUSTER_FILE = "cocluster.json";
    /** A run folder's circuits ({@link CircuitsRun}). */
    public static final String CIRCUITS_FILE = "circuits.json";

    private Results() {}

    /** Writes {@code result} to {@code file} as indented JSON, atomically. */
    public static void write(Path file, Object result) throws IOException {
        AtomicFiles.writeString(file, Json.writePretty(result) + "\n");
    }

    /** {@code result} as one line of JSON (what {@code --json} prints). */
    public static String line(Object result) {
        return Json.write(result);
    }

    /**
     * Reads the result file {@code file} into {@code type}; null when the file does not exist. A
     * file that is not valid JSON, or not a result of that type, is an
     * {@link InvalidInputException} naming it.
     */
    public static <T> T read(Path file, Class<T> type) {
        if (!Files.exists(file)) {
            return null;
        }
        try {
            return Json.mapper().readValue(file.toFile(), type);
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidInputException(file + ": not a valid " + type.getSimpleName() + " file (" + e.getMessage()
                    .lines().findFirst().orElse("") + ")", e);
        }
    }

    /** Whether {@code a} and {@code b} are results of one type that write the same JSON. */
    static boolean sameJson(Object a, Object b) {
        if (a == b) {
            return true;
        }
        return b != null && a.getClass() == b.getClass() && tree(a).equals(tree(b));
    }

    static int jsonHash(Object a) {
        return tree(a).hashCode();
    }

    private static JsonNode tree(Object a) {
        return Json.mapper().valueToTree(a);
    }
}
