package dev.cleave.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cleave.io.AtomicFiles;
import dev.cleave.io.Json;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Runs a {@link SweepSpec} on Spark, one task per unfinished cell ({@link CellRunner}), then
 * writes the sweep folder's tables: results.csv and results.parquet (a row per cell),
 * aggregate.csv and aggregate.parquet (per variant and phase, over seeds, F21's layout),
 * table.md, and sweep.json (spec, aggregate, published numbers; what `cleave report` reads).
 * The tables are built from the cells' cell.json files in grid order, so a rerun that skips
 * finished cells writes the same tables.
 */
public final class Sweep {
    public static final String SWEEP_FILE = "sweep.json";
    public static final String[] PHASES = {"unpruned", "pruned"};
    static final String[] MEASURES = {"accuracy", "ncut", "shuffled_mean", "shuffled_sd", "z", "p"};

    /** What a sweep did: cells in the grid, cells run now, cells skipped as finished, the rows. */
    public record Outcome(int cells, int ran, int skipped, List<JsonNode> rows) {}

    private Sweep() {}

    /** Runs the unfinished cells of {@code spec} into {@code dir} on {@code spark} and writes the tables. */
    public static Outcome run(SparkSession spark, SweepSpec spec, Path dir) {
        int taskCpus = spark.sparkContext().getConf().getInt("spark.task.cpus", 1);
        if (taskCpus != spec.threadsPerCell()) {
            throw new IllegalArgumentException("the session's spark.task.cpus is " + taskCpus + " but each cell runs "
                    + spec.threadsPerCell() + " threads: start it with Sparks.session(master, app, threads_per_cell)");
        }
        AtomicFiles.ensureWritableDirectory(dir, "--out");
        List<SweepSpec.Cell> cells = spec.cells();
        List<SweepSpec.Cell> todo = new ArrayList<>();
        for (SweepSpec.Cell c : cells) {
            JsonNode done = CellRunner.finished(dir, c);
            if (done == null) {
                todo.add(c);
            } else if (!CellRunner.madeBy(spec, c, done)) {
                throw new InvalidInputException("--out " + dir + ": cell " + c.folder() + " was made by a different spec "
                        + "(other training options, threads_per_cell or measurements); choose another --out folder");
            }
        }
        if (!todo.isEmpty()) {
            String source = spec.source();
            String where = spec.name();
            String out = dir.toAbsolutePath().toString();
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            jsc.parallelize(todo, todo.size())
                    .map(c -> CellRunner.run(SweepSpec.parse(source, where), Path.of(out), c))
                    .collect();
        }
        List<JsonNode> rows = new ArrayList<>();
        for (SweepSpec.Cell c : cells) {
            JsonNode row = CellRunner.finished(dir, c);
            if (row == null) {
                throw new IllegalStateException("cell " + c.folder() + " finished but its " + CellRunner.CELL_FILE + " is missing");
            }
            rows.add(row);
        }
        writeTables(spark, spec, dir, rows);
        return new Outcome(cells.size(), todo.size(), cells.size() - todo.size(), rows);
    }

    private static Double value(JsonNode row, String phase, String measure) {
        JsonNode v = row.path(phase).path(measure);
        return v.isNumber() ? v.asDouble() : null;
    }

    /** Mean over seeds per variant and phase: n, then mean and sd (ddof 0) of each measure. */
    static Map<String, Map<String, Map<String, double[]>>> aggregate(SweepSpec spec, List<JsonNode> rows) {
        Map<String, Map<String, Map<String, double[]>>> agg = new LinkedHashMap<>();
        for (SweepSpec.Variant v : spec.variants()) {
            Map<String, Map<String, double[]>> phases = new LinkedHashMap<>();
            for (String phase : PHASES) {
                if (phase.equals("unpruned") ? !spec.measure().unpruned() : !spec.measure().pruned()) {
                    continue;
                }
                Map<String, double[]> measures = new LinkedHashMap<>();
                for (String m : MEASURES) {
                    List<Double> xs = new ArrayList<>();
                    for (JsonNode r : rows) {
                        Double x = r.path("variant").asText().equals(v.name()) ? value(r, phase, m) : null;
                        if (x != null && Double.isFinite(x)) {
                            xs.add(x);
                        }
                    }
                    double mean = xs.stream().mapToDouble(Double::doubleValue).sum() / xs.size();
                    double ss = xs.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum();
                    measures.put(m, new double[] {xs.size(), xs.isEmpty() ? Double.NaN : mean,
                            xs.isEmpty() ? Double.NaN : Math.sqrt(ss / xs.size())});
                }
                phases.put(phase, measures);
            }
            agg.put(v.name(), phases);
        }
        return agg;
    }

    private static void writeTables(SparkSession spark, SweepSpec spec, Path dir, List<JsonNode> rows) {
        try {
            List<String> cols = new ArrayList<>(List.of("variant", "seed", "folder"));
            for (String phase : PHASES) {
                for (String m : MEASURES) {
                    cols.add(phase + "_" + m);
                }
            }
            StringBuilder csv = new StringBuilder(String.join(",", cols)).append('\n');
            List<Row> sparkRows = new ArrayList<>();
            for (JsonNode r : rows) {
                List<Object> vals = new ArrayList<>(List.of(r.get("variant").asText(), r.get("seed").asLong(),
                        r.get("folder").asText()));
                csv.append(quote(r.get("variant").asText())).append(',').append(r.get("seed").asLong()).append(',')
                        .append(r.get("folder").asText());
                for (String phase : PHASES) {
                    for (String m : MEASURES) {
                        Double x = value(r, phase, m);
                        vals.add(x);
                        csv.append(',').append(x == null ? "" : x.toString());
                    }
                }
                csv.append('\n');
                sparkRows.add(RowFactory.create(vals.toArray()));
            }
            AtomicFiles.writeString(dir.resolve("results.csv"), csv.toString());
            List<StructField> fields = new ArrayList<>();
            fields.add(DataTypes.createStructField("variant", DataTypes.StringType, false));
            fields.add(DataTypes.createStructField("seed", DataTypes.LongType, false));
            fields.add(DataTypes.createStructField("folder", DataTypes.StringType, false));
            for (int i = 3; i < cols.size(); i++) {
                fields.add(DataTypes.createStructField(cols.get(i), DataTypes.DoubleType, true));
            }
            Dataset<Row> table = spark.createDataFrame(sparkRows, new StructType(fields.toArray(new StructField[0])));
            table.coalesce(1).write().mode(SaveMode.Overwrite).parquet(dir.resolve("results.parquet").toString());

            Map<String, Map<String, Map<String, double[]>>> agg = aggregate(spec, rows);
            StringBuilder acsv = new StringBuilder("variant,phase,n,ncut,ncut_sd_over_seeds,shuffled_mean,"
                    + "shuffled_mean_sd_over_seeds,shuffled_sd,z,z_sd_over_seeds,p,accuracy\n");
            List<Row> aggRows = new ArrayList<>();
            ObjectNode sweep = Json.mapper().createObjectNode();
            sweep.put("format", "cleave-sweep-v1");
            sweep.put("name", spec.name());
            sweep.put("cells", rows.size());
            sweep.put("seeds", spec.seeds().size());
            sweep.set("measure", Json.mapper().valueToTree(spec.measure()));
            sweep.put("threads_per_cell", spec.threadsPerCell());
            ArrayNode aggJson = sweep.putArray("aggregate");
            for (var v : agg.entrySet()) {
                for (var p : v.getValue().entrySet()) {
                    Map<String, double[]> a = p.getValue();
                    double[] row = {a.get("ncut")[0], a.get("ncut")[1], a.get("ncut")[2], a.get("shuffled_mean")[1],
                            a.get("shuffled_mean")[2], a.get("shuffled_sd")[1], a.get("z")[1], a.get("z")[2], a.get("p")[1],
                            a.get("accuracy")[1]};
                    acsv.append(quote(v.getKey())).append(',').append(p.getKey()).append(',').append((int) row[0]);
                    for (int i = 1; i < row.length; i++) {
                        acsv.append(',').append(Double.isNaN(row[i]) ? "" : Double.toString(row[i]));
                    }
                    acsv.append('\n');
                    List<Object> vals = new ArrayList<>(List.of(v.getKey(), p.getKey(), (int) row[0]));
                    for (int i = 1; i < row.length; i++) {
                        vals.add(Double.isNaN(row[i]) ? null : row[i]);
                    }
                    aggRows.add(RowFactory.create(vals.toArray()));
                    ObjectNode o = aggJson.addObject();
                    o.put("variant", v.getKey());
                    o.put("phase", p.getKey());
                    o.put("n", (int) row[0]);
                    String[] names = {"ncut", "ncut_sd_over_seeds", "shuffled_mean", "shuffled_mean_sd_over_seeds",
                            "shuffled_sd", "z", "z_sd_over_seeds", "p", "accuracy"};
                    for (int i = 0; i < names.length; i++) {
                        if (Double.isNaN(row[i + 1])) {
                            o.putNull(names[i]);
                        } else {
                            o.put(names[i], row[i + 1]);
                        }
                    }
                }
            }
            AtomicFiles.writeString(dir.resolve("aggregate.csv"), acsv.toString());
            StructType aggSchema = new StructType()
                    .add("variant", DataTypes.StringType).add("phase", DataTypes.StringType).add("n", DataTypes.IntegerType)
                    .add("ncut", DataTypes.DoubleType).add("ncut_sd_over_seeds", DataTypes.DoubleType)
                    .add("shuffled_mean", DataTypes.DoubleType).add("shuffled_mean_sd_over_seeds", DataTypes.DoubleType)
                    .add("shuffled_sd", DataTypes.DoubleType).add("z", DataTypes.DoubleType)
                    .add("z_sd_over_seeds", DataTypes.DoubleType).add("p", DataTypes.DoubleType)
                    .add("accuracy", DataTypes.DoubleType);
            spark.createDataFrame(aggRows, aggSchema).coalesce(1).write().mode(SaveMode.Overwrite)
                    .parquet(dir.resolve("aggregate.parquet").toString());
            sweep.set("published", Json.mapper().valueToTree(spec.published()));
            sweep.set("spec", Json.mapper().readTree(spec.source()));
            AtomicFiles.writeString(dir.resolve(SWEEP_FILE), Json.writePretty(sweep) + "\n");
            AtomicFiles.writeString(dir.resolve("table.md"), markdown(spec, agg));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tables in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** F21's layout: per variant, per phase "n-cut, shuffled mean +- sd, z, accuracy" (means over seeds). */
    static String markdown(SweepSpec spec, Map<String, Map<String, Map<String, double[]>>> agg) {
        StringBuilder sb = new StringBuilder("| variant |");
        List<String> phases = new ArrayList<>();
        for (String p : PHASES) {
            if (p.equals("unpruned") ? spec.measure().unpruned() : spec.measure().pruned()) {
                phases.add(p);
                sb.append(' ').append(p).append(" |");
            }
        }
        sb.append('\n').append("|---|").append("---|".repeat(phases.size())).append('\n');
        for (var v : agg.entrySet()) {
            sb.append("| ").append(v.getKey()).append(" |");
            for (String p : phases) {
                Map<String, double[]> a = v.getValue().get(p);
                sb.append(' ').append(cell(a)).append(" |");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String cell(Map<String, double[]> a) {
        return String.format(Locale.ROOT, "%.3f, %.3f ± %.3f, %s, %.3f", a.get("ncut")[1], a.get("shuffled_mean")[1],
                a.get("shuffled_sd")[1], Double.isNaN(a.get("z")[1]) ? "-" : String.format(Locale.ROOT, "%+.2f", a.get("z")[1]),
                a.get("accuracy")[1]);
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
