package dev.cleave.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.cluster.ShuffleMethod;
import dev.cleave.io.Json;
import dev.cleave.nn.Device;
import dev.cleave.train.ClusterableInit;
import dev.cleave.train.ModularOptions;
import dev.cleave.train.PruneOptions;
import dev.cleave.train.SpectralOptions;
import dev.cleave.train.TrainConfig;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep: a grid of training variants x seeds, and what to measure per cell. Read from JSON
 * (a preset bundled in the jar, or a file); every field is checked and an error names the field
 * ("variants[2].dropout: ...").
 *
 * @param name           the sweep's name
 * @param variants       the variants, each a name and its full training options (base merged in)
 * @param seeds          seeds; each variant is trained once per seed
 * @param measure        clustering and shuffle-test settings
 * @param threadsPerCell threads each cell trains and clusters with (Spark's spark.task.cpus)
 * @param published      published numbers per variant and phase ("unpruned", "pruned"), or empty
 * @param source         the spec's JSON as read (written to the sweep folder)
 */
public record SweepSpec(String name, List<Variant> variants, List<Long> seeds, Measure measure, int threadsPerCell,
        Map<String, Map<String, Published>> published, String source) {

    /** Bundled presets, by name. */
    public static final List<String> PRESETS = List.of("f21-fashion-mlp");

    /** A variant: a name and the train options (a JSON object of `cleave train` option names). */
    public record Variant(String name, JsonNode options) {
        /** The training config of this variant for {@code seed}. */
        public TrainConfig config(long seed, int threads) {
            return trainConfig(options, seed, threads, "variant '" + name + "'");
        }

        public boolean prunes() {
            return options.has("prune_epochs") && options.get("prune_epochs").asInt() > 0;
        }
    }

    /**
     * @param k        clusters
     * @param nInit    k-means++ restarts
     * @param shuffles shuffles per phase (0: cluster only)
     * @param method   shuffle method
     * @param unpruned measure the network after the training epochs (before pruning)
     * @param pruned   measure the network after the pruning epochs
     */
    public record Measure(int k, int nInit, int shuffles, ShuffleMethod method, boolean unpruned, boolean pruned) {}

    /** One published row: n-cut, shuffled mean and sd, z, test accuracy (null where not published). */
    public record Published(Double ncut, Double shuffledMean, Double shuffledSd, Double z, Double accuracy) {}

    /** A preset name or a JSON file. */
    public static SweepSpec load(String spec) {
        if (PRESETS.contains(spec)) {
            try (InputStream in = SweepSpec.class.getResourceAsStream("presets/" + spec + ".json")) {
                return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "preset " + spec);
            } catch (IOException e) {
                throw new IllegalStateException("preset " + spec + " is missing from the jar", e);
            }
        }
        Path file = Path.of(spec);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException("SPEC '" + spec + "' is neither a preset (" + String.join(", ", PRESETS)
                    + ") nor a readable file");
        }
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static final Set<String> TOP = Set.of("name", "description", "base", "variants", "seeds", "measure",
            "threads_per_cell", "published");
    static final Set<String> TRAIN_KEYS = new LinkedHashSet<>(List.of("dataset", "data_dir", "layers", "epochs",
            "prune_epochs", "batch_size", "lr", "dropout", "l1", "l1_layers", "l2", "l2_layers", "clusterable_init", "modular", "modular_lambda",
            "modular_k", "modular_layers", "warmup_epochs", "assign", "spectral_lambda", "spectral_k", "spectral_rescale",
            "backend"));
    private static final Set<String> MEASURE = Set.of("k", "n_init", "shuffles", "method", "unpruned", "pruned");
    private static final Set<String> PUBLISHED = Set.of("ncut", "shuffled_mean", "shuffled_sd", "z", "accuracy");

    /** Parses and validates a spec; {@code where} names it in errors. */
    public static SweepSpec parse(String json, String where) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException(where + ": not valid JSON: " + e.getOriginalMessage() + " (line "
                    + e.getLocation().getLineNr() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidInputException(where + ": a sweep spec is a JSON object with \"variants\" and \"seeds\"");
        }
        String at = where + ": ";
        known(root, TOP, at, "");
        String name = root.has("name") ? text(root.get("name"), at + "name") : "sweep";
        JsonNode base = root.has("base") ? root.get("base") : Json.mapper().createObjectNode();
        if (!base.isObject()) {
            throw new InvalidInputException(at + "base: must be an object of train options");
        }
        known(base, TRAIN_KEYS, at, "base.");
        JsonNode vs = root.get("variants");
        if (vs == null || !vs.isArray() || vs.isEmpty()) {
            throw new InvalidInputException(at + "variants: must be a non-empty list of objects like {\"name\": \"control\"}");
        }
        List<Variant> variants = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        Set<String> folders = new LinkedHashSet<>();
        for (int i = 0; i < vs.size(); i++) {
            String p = "variants[" + i + "]";
            JsonNode v = vs.get(i);
            if (!v.isObject() || !v.has("name")) {
                throw new InvalidInputException(at + p + ": must be an object with a \"name\" and train options");
            }
            String vn = text(v.get("name"), at + p + ".name");
            if (!names.add(vn)) {
                throw new InvalidInputException(at + p + ".name: '" + vn + "' is used by two variants");
            }
            if (!folders.add(slug(vn))) {
                throw new InvalidInputException(at + p + ".name: '" + vn + "' gives the same cell folder name ("
                        + slug(vn) + ") as an earlier variant: rename one");
            }
            ObjectNode merged = ((ObjectNode) base).deepCopy();
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("name")) {
                    continue;
                }
                if (!TRAIN_KEYS.contains(e.getKey())) {
                    throw new InvalidInputException(at + p + "." + e.getKey() + ": unknown train option (known: "
                            + String.join(", ", TRAIN_KEYS) + ")");
                }
                merged.set(e.getKey(), e.getValue());
            }
            Variant variant = new Variant(vn, merged);
            trainConfig(merged, 0, 1, at + p); // validates every option now, not in a Spark task
            variants.add(variant);
        }
        JsonNode ss = root.get("seeds");
        if (ss == null || !ss.isArray() || ss.isEmpty()) {
            throw new InvalidInputException(at + "seeds: must be a non-empty list of integers, e.g. [0, 1, 2, 3, 4]");
        }
        List<Long> seeds = new ArrayList<>();
        for (int i = 0; i < ss.size(); i++) {
            if (!ss.get(i).canConvertToLong() || !ss.get(i).isIntegralNumber()) {
                throw new InvalidInputException(at + "seeds[" + i + "]: must be an integer, got " + ss.get(i));
            }
            if (seeds.contains(ss.get(i).asLong())) {
                throw new InvalidInputException(at + "seeds[" + i + "]: seed " + ss.get(i) + " is listed twice");
            }
            seeds.add(ss.get(i).asLong());
        }
        JsonNode m = root.has("measure") ? root.get("measure") : Json.mapper().createObjectNode();
        if (!m.isObject()) {
            throw new InvalidInputException(at + "measure: must be an object (k, n_init, shuffles, method, unpruned, pruned)");
        }
        known(m, MEASURE, at, "measure.");
        boolean anyPrune = variants.stream().anyMatch(Variant::prunes);
        boolean allPrune = variants.stream().allMatch(Variant::prunes);
        Measure measure = new Measure(intIn(m, "k", 12, 2, 10_000, at + "measure.k"),
                intIn(m, "n_init", 25, 1, 10_000, at + "measure.n_init"),
                intIn(m, "shuffles", 50, 0, 100_000, at + "measure.shuffles"),
                m.has("method") ? method(m.get("method"), at + "measure.method") : ShuffleMethod.LAYER,
                bool(m, "unpruned", true, at + "measure.unpruned"), bool(m, "pruned", anyPrune, at + "measure.pruned"));
        if (measure.pruned() && !allPrune) {
            throw new InvalidInputException(at + "measure.pruned: true, but not every variant has prune_epochs > 0; give them "
                    + "prune_epochs or set \"pruned\": false");
        }
        if (!measure.pruned() && !measure.unpruned()) {
            throw new InvalidInputException(at + "measure: unpruned and pruned are both false, so nothing would be measured");
        }
        int threads = intIn(root, "threads_per_cell", 1, 1, 1024, at + "threads_per_cell");
        Map<String, Map<String, Published>> published = new LinkedHashMap<>();
        if (root.has("published")) {
            JsonNode pub = root.get("published");
            if (!pub.isObject()) {
                throw new InvalidInputException(at + "published: must be an object {variant: {unpruned: {...}, pruned: {...}}}");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = pub.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                String p = at + "published." + e.getKey();
                if (!names.contains(e.getKey())) {
                    throw new InvalidInputException(p + ": no variant has this name (variants: " + String.join(", ", names) + ")");
                }
                if (!e.getValue().isObject()) {
                    throw new InvalidInputException(p + ": must be an object with \"unpruned\" and/or \"pruned\"");
                }
                Map<String, Published> phases = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> pit = e.getValue().fields(); pit.hasNext();) {
                    Map.Entry<String, JsonNode> ph = pit.next();
                    String pp = p + "." + ph.getKey();
                    if (!ph.getKey().equals("unpruned") && !ph.getKey().equals("pruned")) {
                        throw new InvalidInputException(pp + ": the phases are \"unpruned\" and \"pruned\"");
                    }
                    if (ph.getKey().equals("pruned") ? !measure.pruned() : !measure.unpruned()) {
                        throw new InvalidInputException(pp + ": no " + ph.getKey() + " phase is measured (see measure."
                                + ph.getKey() + " and prune_epochs)");
                    }
                    known(ph.getValue(), PUBLISHED, pp + ": ", "");
                    phases.put(ph.getKey(), new Published(num(ph.getValue(), "ncut", pp), num(ph.getValue(), "shuffled_mean", pp),
                            num(ph.getValue(), "shuffled_sd", pp), num(ph.getValue(), "z", pp), num(ph.getValue(), "accuracy", pp)));
                }
                published.put(e.getKey(), phases);
            }
        }
        return new SweepSpec(name, List.copyOf(variants), List.copyOf(seeds), measure, threads, published, json);
    }

    /** The training config the options describe (the keys of {@link #TRAIN_KEYS}), with errors at {@code where}. */
    static TrainConfig trainConfig(JsonNode o, long seed, int threads, String where) {
        String at = where + ".";
        String dataset = o.has("dataset") ? text(o.get("dataset"), at + "dataset") : "fashion-mnist";
        String dataDir = o.has("data_dir") ? text(o.get("data_dir"), at + "data_dir") : null;
        int[] layers = null;
        if (o.has("layers")) {
            JsonNode l = o.get("layers");
            if (!l.isArray()) {
                throw new InvalidInputException(at + "layers: must be a list of widths, input first, e.g. [784, 256, 10]");
            }
            layers = new int[l.size()];
            for (int i = 0; i < l.size(); i++) {
                if (!l.get(i).isIntegralNumber()) {
                    throw new InvalidInputException(at + "layers[" + i + "]: must be an integer width, got " + l.get(i));
                }
                layers[i] = l.get(i).asInt();
            }
        }
        int epochs = intIn(o, "epochs", 20, 1, 100_000, at + "epochs");
        int pruneEpochs = intIn(o, "prune_epochs", 0, 0, 100_000, at + "prune_epochs");
        ModularOptions modular = null;
        boolean modularOn = bool(o, "modular", false, at + "modular") || o.has("modular_lambda") || o.has("modular_k")
                || o.has("modular_layers") || o.has("warmup_epochs") || o.has("assign");
        if (modularOn) {
            modular = new ModularOptions(floatOf(o, "modular_lambda", ModularOptions.DEFAULT_LAMBDA, at),
                    intIn(o, "modular_k", ModularOptions.DEFAULT_K, 1, 100_000, at + "modular_k"),
                    o.has("modular_layers") ? text(o.get("modular_layers"), at + "modular_layers") : null,
                    intIn(o, "warmup_epochs", ModularOptions.DEFAULT_WARMUP, 0, 100_000, at + "warmup_epochs"),
                    o.has("assign") ? text(o.get("assign"), at + "assign") : "cocluster");
        }
        SpectralOptions spectral = null;
        if (o.has("spectral_lambda") || o.has("spectral_k") || o.has("spectral_rescale")) {
            spectral = new SpectralOptions(floatOf(o, "spectral_lambda", 0.1f, at),
                    intIn(o, "spectral_k", 3, 1, 100_000, at + "spectral_k"),
                    o.has("spectral_rescale") ? SpectralOptions.Rescale.parse(text(o.get("spectral_rescale"), at + "spectral_rescale"))
                            : SpectralOptions.Rescale.CANONICAL);
        }
        try {
            return new TrainConfig(dataset, dataDir, layers, epochs, intIn(o, "batch_size", TrainConfig.DEFAULT_BATCH, 1, 1 << 16,
                    at + "batch_size"), floatOf(o, "lr", TrainConfig.DEFAULT_LR, at), floatOf(o, "dropout", 0f, at),
                    floatOf(o, "l1", 0f, at), floatOf(o, "l2", 0f, at), seed,
                    o.has("backend") ? kind(o.get("backend"), at + "backend") : Device.Kind.CPU, threads, modular,
                    pruneEpochs == 0 ? null : PruneOptions.f21(pruneEpochs),
                    bool(o, "clusterable_init", false, at + "clusterable_init") ? ClusterableInit.f21() : null, spectral,
                    null, null, o.has("l1_layers") ? text(o.get("l1_layers"), at + "l1_layers") : null,
                    o.has("l2_layers") ? text(o.get("l2_layers"), at + "l2_layers") : null);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": " + e.getMessage().replace("--", "").replace('-', '_'), e);
        }
    }

    private static void known(JsonNode o, Set<String> keys, String at, String prefix) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext();) {
            String k = it.next();
            if (!keys.contains(k)) {
                throw new InvalidInputException(at + prefix + k + ": unknown field (known: " + String.join(", ", keys) + ")");
            }
        }
    }

    private static String text(JsonNode n, String where) {
        if (!n.isTextual() || n.asText().isBlank()) {
            throw new InvalidInputException(where + ": must be a non-empty string, got " + n);
        }
        return n.asText();
    }

    private static int intIn(JsonNode o, String key, int dflt, int min, int max, String where) {
        if (!o.has(key)) {
            return dflt;
        }
        JsonNode n = o.get(key);
        if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
            throw new InvalidInputException(where + ": must be an integer in [" + min + ", " + max + "], got " + n);
        }
        return n.asInt();
    }

    private static float floatOf(JsonNode o, String key, float dflt, String at) {
        if (!o.has(key)) {
            return dflt;
        }
        JsonNode n = o.get(key);
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw new InvalidInputException(at + key + ": must be a number, got " + n);
        }
        return (float) n.asDouble();
    }

    private static Double num(JsonNode o, String key, String at) {
        if (!o.has(key) || o.get(key).isNull()) {
            return null;
        }
        if (!o.get(key).isNumber()) {
            throw new InvalidInputException(at + "." + key + ": must be a number, got " + o.get(key));
        }
        return o.get(key).asDouble();
    }

    private static boolean bool(JsonNode o, String key, boolean dflt, String where) {
        if (!o.has(key)) {
            return dflt;
        }
        if (!o.get(key).isBoolean()) {
            throw new InvalidInputException(where + ": must be true or false, got " + o.get(key));
        }
        return o.get(key).asBoolean();
    }

    private static Device.Kind kind(JsonNode n, String where) {
        try {
            return Device.Kind.parse(text(n, where));
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
    }

    private static ShuffleMethod method(JsonNode n, String where) {
        if (!n.isTextual()) {
            throw new InvalidInputException(where + ": must be \"layer\" or \"layer_nonzero\", got " + n);
        }
        try {
            return ShuffleMethod.parse(n.asText());
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
    }

    /** The cells of the grid, variant-major, in a fixed order. */
    public List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        for (Variant v : variants) {
            for (long s : seeds) {
                cells.add(new Cell(v.name(), s, slug(v.name()) + "-seed" + s));
            }
        }
        return cells;
    }

    /** A cell: a variant trained with one seed; {@code folder} is its run folder's name under DIR/cells. */
    public record Cell(String variant, long seed, String folder) implements java.io.Serializable {}

    public Variant variant(String name) {
        return variants.stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    static String slug(String s) {
        String t = s.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9.]+", "-").replaceAll("^-|-$", "");
        return t.isEmpty() ? "variant" : t;
    }
}
