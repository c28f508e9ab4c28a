package dev.cleave.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link ConvBench} (cpu) and {@link SgemmBench} in one JMH run, 1 and 2 threads, and prints
 * per benchmark: ms per batch of 64 (JMH's mean and its error), GFLOP/s (FLOPs as
 * {@link ConvBench#flop}), the share of the sgemm rate on as many threads, and for the step
 * samples/s; /proc/loadavg before and after.
 *
 * <pre>
 * OMP_WAIT_POLICY=passive java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.cleave.bench.ConvReport [iterations, default 5]
 * </pre>
 */
public final class ConvReport {
    private ConvReport() {
    }

    public static void main(String[] args) throws RunnerException, IOException {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String before = load();
        Options opt = new OptionsBuilder().include("ConvBench\\.").include("SgemmBench\\.").forks(1)
                .warmupIterations(2).warmupTime(TimeValue.seconds(2)).measurementIterations(iterations)
                .measurementTime(TimeValue.seconds(2)).param("threads", "1", "2").build();
        Collection<RunResult> results = new Runner(opt).run();
        Map<String, Double> sgemm = new HashMap<>();
        List<RunResult> conv = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            if (name.endsWith("SgemmBench.sgemmSquare")) {
                double n = Double.parseDouble(r.getParams().getParam("n"));
                sgemm.put(r.getParams().getParam("threads"), 2 * n * n * n * r.getPrimaryResult().getScore() / 1e9);
            } else {
                conv.add(r);
            }
        }
        System.out.println();
        System.out.println("/proc/loadavg before: " + before + "; after: " + load());
        sgemm.forEach((t, g) -> System.out.printf(Locale.ROOT, "sgemm 2048^3, %s thread(s): %.1f GFLOP/s%n", t, g));
        System.out.println("| benchmark | threads | ms per batch of 64 | GFLOP/s | share of sgemm | samples/s |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        for (RunResult r : conv) {
            String name = r.getParams().getBenchmark();
            String what = name.substring(name.lastIndexOf('.') + 1);
            String threads = r.getParams().getParam("threads");
            int batch = Integer.parseInt(r.getParams().getParam("batch"));
            double ms = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            double gflops = ConvBench.flop(what) * batch / (ms / 1e3) / 1e9;
            Double bound = sgemm.get(threads);
            System.out.printf(Locale.ROOT, "| %s | %s | %.2f ± %.2f | %.1f | %s | %s |%n", what, threads, ms, err, gflops,
                    bound == null ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * gflops / bound),
                    what.equals("step") ? String.format(Locale.ROOT, "%.0f", batch / (ms / 1e3)) : "-");
        }
    }

    private static String load() throws IOException {
        Path p = Path.of("/proc/loadavg");
        return Files.exists(p) ? Files.readString(p).trim() : "?";
    }
}
