package dev.cleave.bench;

import dev.cleave.data.Dataset;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nn.Adam;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where a CLI step's time goes beyond {@link TrainStepBench}'s, on a loaded machine: variants of
 * one training step of F21's MLP on Fashion-MNIST run in short interleaved blocks (every variant
 * once per round, so a change of load spreads over all), each block's wall time per step kept;
 * prints each variant's median and quartiles in microseconds per step and samples/s. "serial
 * gather" is main's gather before the team ran it (the team set to 1 thread for the gather).
 *
 * <pre>
 * GOMP_SPINCOUNT=1000 OPENBLAS_CORETYPE=SkylakeX java --enable-native-access=ALL-UNNAMED -Xmx4g \
 *     -cp benchmarks/target/benchmarks.jar dev.cleave.bench.TrainLoopProbe --threads 2 --rounds 200
 * </pre>
 */
public final class TrainLoopProbe {
    private TrainLoopProbe() {
    }

    public static void main(String[] args) {
        int threads = 2, rounds = 200, block = 40;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--block" -> block = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        DatasetSplit data = Datasets.load("fashion-mnist", null, null);
        Dataset train = data.train();
        int n = train.count();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        SplittableRandom r = new SplittableRandom(2);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        try (CpuBackend backend = new CpuBackend(threads); Mlp model = Mlp.glorotUniform(Mlp.F21_WIDTHS, 1);
                MlpPass pass = new MlpPass(backend, model, 128); Adam adam = new Adam(backend, model, 1e-3f)) {
            final int threads0 = threads;
            long[] step = {0};
            int[] first = {0};
            Runnable train1 = () -> {
                step[0]++;
                pass.forward(128, 0f, 0, step[0]);
                pass.lossAndBackward(128, 0f);
                adam.step(backend, model, pass, null);
            };
            Runnable gather = () -> {
                if (first[0] + 128 > n) {
                    first[0] = 0;
                }
                pass.loadBatch(train.images(), train.labels(), order, first[0], 128);
                first[0] += 128;
            };
            pass.loadBatch(train.images(), train.labels(), order, 0, 128);
            Map<String, Runnable> variants = new LinkedHashMap<>();
            variants.put("step (fixed batch)", train1);
            variants.put("gather + step", () -> {
                gather.run();
                train1.run();
            });
            variants.put("serial gather + step", () -> { // main's gather: on the caller's thread alone
                CpuKernels.check(CpuKernels.cleave_set_team(1));
                gather.run();
                CpuKernels.check(CpuKernels.cleave_set_team(threads0));
                train1.run();
            });
            variants.put("gather only", gather);
            Map<String, List<Double>> us = new LinkedHashMap<>();
            variants.keySet().forEach(k -> us.put(k, new ArrayList<>()));
            for (int round = -10; round < rounds; round++) { // 10 rounds of warm-up
                for (Map.Entry<String, Runnable> v : variants.entrySet()) {
                    long t0 = System.nanoTime();
                    for (int s = 0; s < block; s++) {
                        v.getValue().run();
                    }
                    long t1 = System.nanoTime();
                    if (round >= 0) {
                        us.get(v.getKey()).add((t1 - t0) / 1e3 / block);
                    }
                }
            }
            System.out.printf("threads %d, %d rounds of %d steps per variant%n", threads, rounds, block);
            for (Map.Entry<String, List<Double>> e : us.entrySet()) {
                double[] x = e.getValue().stream().mapToDouble(Double::doubleValue).sorted().toArray();
                double med = x[x.length / 2], q1 = x[x.length / 4], q3 = x[3 * x.length / 4];
                System.out.printf("%-22s median %7.1f us (quartiles %7.1f .. %7.1f)  %8.0f samples/s%n", e.getKey(), med, q1,
                        q3, 128e6 / med);
            }
        }
    }
}
