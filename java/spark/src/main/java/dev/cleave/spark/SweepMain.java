package dev.cleave.spark;

import dev.cleave.data.Datasets;
import dev.cleave.train.TrainConfig;
import dev.cleave.util.InvalidInputException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cleave sweep SPEC --out DIR}: a grid of training variants x seeds on Spark, one task per
 * cell. Bad input prints one line and exits 2, as the rest of the CLI does.
 */
@Command(name = "cleave sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train, prune, cluster and shuffle-test a grid of variants x seeds on Apache Spark (one task per cell); "
                + "finished cells are skipped, so a rerun completes a killed sweep.")
public final class SweepMain implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SPEC", description = "a preset (" + "f21-fashion-mlp" + ") or a sweep spec JSON file")
    String specName;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "sweep folder (cells/, results.csv, aggregate.csv, ...)")
    Path out;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: local[all cores]; "
            + "e.g. spark://host:7077; under spark-submit its --master)")
    String master;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        SweepSpec s = SweepSpec.load(specName);
        String m = Sparks.master(master);
        int cores = Sparks.localCores(m);
        if (cores > 0) {
            // local mode: the executors are this JVM; load each data set once, here, so a missing one is one clear error
            Set<String> seen = new LinkedHashSet<>();
            for (SweepSpec.Variant v : s.variants()) {
                TrainConfig c = v.config(0, 1);
                if (seen.add(c.dataset() + "|" + c.dataDir())) {
                    Datasets.load(c.dataset(), c.dataDir() == null ? null : Path.of(c.dataDir()), null);
                }
            }
        }
        w.printf(Locale.ROOT, "cleave sweep: %s, %d variants x %d seeds = %d cells on %s, %d thread(s) per cell%s%n", s.name(),
                s.variants().size(), s.seeds().size(), s.cells().size(), m, s.threadsPerCell(),
                cores > 0 ? ", " + Math.max(1, cores / s.threadsPerCell()) + " at once" : "");
        w.flush();
        long t0 = System.nanoTime();
        SparkSession spark = Sparks.session(m, "cleave sweep " + s.name(), s.threadsPerCell());
        Sweep.Outcome o;
        try {
            o = Sweep.run(spark, s, out);
        } finally {
            spark.stop();
        }
        w.printf(Locale.ROOT, "%d cells: %d run, %d already finished (%.1f s); tables in %s (results.csv, aggregate.csv, "
                + "table.md, *.parquet)%n", o.cells(), o.ran(), o.skipped(), (System.nanoTime() - t0) / 1e9, out);
        w.print(Sweep.markdown(s, Sweep.aggregate(s, o.rows())));
        w.flush();
        return 0;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command and returns its exit code (for tests). */
    public static int run(String... args) {
        return run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    /** {@link #run(String...)} with its own output streams. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        System.setProperty("java.awt.headless", "true");
        CommandLine cli = new CommandLine(new SweepMain());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof InvalidInputException) {
                    cmd.getErr().println("cleave sweep: error: " + t.getMessage());
                    return 2;
                }
            }
            throw e;
        });
        return cli.execute(args);
    }
}
