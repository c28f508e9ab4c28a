package dev.cleave.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.nn.Device;
import dev.cleave.util.Versions;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a pipeline result was produced: the step and its options (as the {@code cleave} words
 * that give them), the seed, the device it ran on (kind, threads, GPU, and what {@code auto}
 * chose), and the versions. {@link #commandLine()} derives from it the command that reproduces
 * the numbers; JSON field "provenance" of every result file.
 *
 * @param subcommand    the {@code cleave} subcommand of the step: cluster, cocluster or circuits
 * @param arguments     the step's own options, each option and value a word, in
 *                      {@code cleave} syntax (seed and device are their own fields)
 * @param seed          the one seed
 * @param backend       the device's kind (resolved: never auto)
 * @param threads       the device's threads
 * @param gpu           the GPU index for {@link Device.Kind#CUDA}; null otherwise
 * @param backendChoice for {@code --backend auto}: what it chose and why; else null
 * @param cleaveVersion Cleave's version ({@link Versions#cleave()})
 * @param javaVersion   the JVM's {@code java.version}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Provenance(
        @JsonProperty("subcommand") String subcommand,
        @JsonProperty("arguments") List<String> arguments,
        @JsonProperty("seed") long seed,
        @JsonProperty("backend") Device.Kind backend,
        @JsonProperty("threads") int threads,
        @JsonProperty("gpu") Integer gpu,
        @JsonProperty("backend_choice") String backendChoice,
        @JsonProperty("cleave_version") String cleaveVersion,
        @JsonProperty("java_version") String javaVersion) {

    private static final Pattern PLAIN_WORD = Pattern.compile("[A-Za-z0-9_./:=,+@%-]+");

    public Provenance {
        Objects.requireNonNull(subcommand, "subcommand");
        Objects.requireNonNull(backend, "backend");
        arguments = List.copyOf(arguments);
    }

    /** The provenance of a step run now, on {@code device}, with this process's versions. */
    public static Provenance of(String subcommand, List<String> arguments, long seed, Device device) {
        return new Provenance(subcommand, arguments, seed, device.kind(), device.threads(),
                device.kind() == Device.Kind.CUDA ? device.gpu() : null, device.choice(), Versions.cleave(),
                System.getProperty("java.version"));
    }

    /**
     * The command that reproduces the numbers: {@code cleave SUBCOMMAND ARGUMENTS --seed S
     * --backend KIND --threads T} (and {@code --device N} on cuda), words with spaces or shell
     * characters single-quoted.
     */
    public String commandLine() {
        List<String> words = new ArrayList<>(List.of("cleave", subcommand));
        words.addAll(arguments);
        words.addAll(List.of("--seed", Long.toString(seed), "--backend", backend.toString(), "--threads",
                Integer.toString(threads)));
        if (gpu != null) {
            words.addAll(List.of("--device", gpu.toString()));
        }
        StringBuilder sb = new StringBuilder();
        for (String w : words) {
            sb.append(sb.length() == 0 ? "" : " ").append(quote(w));
        }
        return sb.toString();
    }

    private static String quote(String word) {
        return PLAIN_WORD.matcher(word).matches() ? word : "'" + word.replace("'", "'\\''") + "'";
    }

    // ---- helpers for the requests' argument lists ----

    /** {@code option value} appended to {@code words}. */
    static void add(List<String> words, String option, Object value) {
        words.add(option);
        words.add(value instanceof Double d ? number(d) : String.valueOf(value));
    }

    /** {@code option path} appended when {@code path} is not null. */
    static void addIfGiven(List<String> words, String option, Path path) {
        if (path != null) {
            add(words, option, path);
        }
    }

    /** A double as a plain decimal (1e-6 as 0.000001), exactly the double it parses back to. */
    static String number(double v) {
        return Double.isFinite(v) ? new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString() : Double.toString(v);
    }
}
