package dev.cleave.bench;

import dev.cleave.data.Dataset;
import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import dev.cleave.nn.Adam;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.ProgressListener;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CLI's training loop against {@link TrainStepBench}'s bare step, in one JVM on Fashion-MNIST
 * (F21's MLP, batch 128, Adam, fixed threads): {@code step} is TrainStepBench.trainStep (one
 * batch, loaded once); {@code gatheredStep} adds what {@link Trainer} does per step besides it (the
 * batch gathered from the shuffled training set); {@code epoch} is {@link Trainer#runEpoch} itself
 * (its test evaluation on 128 images only). Samples/s: 128 x ops/s for the steps, 60000 x ops/s
 * for epochs. Needs the dataset-fashion-mnist files.
 *
 * <pre>
 * GOMP_SPINCOUNT=1000 OPENBLAS_CORETYPE=SkylakeX java --enable-native-access=ALL-UNNAMED \
 *     -jar benchmarks/target/benchmarks.jar TrainLoopBench -p threads=2
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TrainLoopBench {
    @Param({"1", "2"})
    public int threads;

    private Dataset train;
    private Dataset test;
    private CpuBackend backend;
    private Mlp model;
    private MlpPass pass;
    private Adam adam;
    private Trainer trainer;
    private int[] order;
    private int first;
    private long step;

    @Setup(Level.Trial)
    public void setUp() {
        DatasetSplit data = Datasets.load("fashion-mnist", null, null);
        train = data.train();
        int[] head = new int[128];
        for (int i = 0; i < head.length; i++) {
            head[i] = i;
        }
        test = data.test().subset(head);
        backend = new CpuBackend(threads);
        model = Mlp.glorotUniform(Mlp.F21_WIDTHS, 1);
        pass = new MlpPass(backend, model, 128);
        adam = new Adam(backend, model, 1e-3f);
        order = new int[train.count()];
        java.util.SplittableRandom r = new java.util.SplittableRandom(2);
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int i = order.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        pass.loadBatch(train.images(), train.labels(), order, 0, 128);
        TrainConfig cfg = TrainConfig.defaults("fashion-mnist", 1000, 0).withDevice(Device.cpu(threads));
        trainer = new Trainer(cfg, backend, Trainer.initialModel(cfg));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.model().close();
        trainer.close();
        adam.close();
        pass.close();
        model.close();
        backend.close();
    }

    @Benchmark
    public void step() {
        step++;
        pass.forward(128, 0f, 0, step);
        pass.lossAndBackward(128, 0f);
        adam.step(backend, model, pass, null);
    }

    @Benchmark
    public void gatheredStep() {
        if (first + 128 > order.length) {
            first = 0;
        }
        pass.loadBatch(train.images(), train.labels(), order, first, 128);
        first += 128;
        step();
    }

    @Benchmark
    public Object epoch() {
        return trainer.runEpoch(train, test, ProgressListener.NONE);
    }
}
