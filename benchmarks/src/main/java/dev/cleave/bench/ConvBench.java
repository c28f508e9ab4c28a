package dev.cleave.bench;

import dev.cleave.nn.Backend;
import dev.cleave.nn.Conv2dShape;
import dev.cleave.nn.CpuBackend;
import dev.cleave.nn.IntTensor;
import dev.cleave.nn.JavaBackend;
import dev.cleave.nn.Pool2dShape;
import dev.cleave.nn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
 * F21's small CNN ({@code f21-cnn}, science.md section 8) at batch 64 through the {@link Backend}
 * ops: each convolution forward + backward on its own ({@code conv1}, {@code conv2}, {@code conv3}),
 * the three together ({@code convs}), and the whole training step ({@code step}: conv 1->64 ReLU,
 * conv 64->64 ReLU, maxpool 2, conv 64->64 ReLU, maxpool 2, linear 3136->128 ReLU, linear 128->10,
 * softmax cross-entropy, the backward pass, Adam on every parameter), the same step
 * {@code benchmarks/scripts/torch_cnn_step.py} times in PyTorch. Built from the ops directly (the
 * model classes are not needed), on fixed random inputs.
 *
 * <p>FLOPs as the issue counts them, per sample: forward 2 MACs of every conv and linear layer,
 * backward dW of every layer and dX of every layer but the first, 221.0 MFLOP per sample (the issue says 222); the conv
 * layers' share is in {@link #flop}. {@link ConvReport} turns the JMH result into GFLOP/s, the share
 * of the sgemm rate ({@link SgemmBench}, same run) and samples/s:
 *
 * <pre>
 * mvn -B -q -DskipTests package
 * OMP_WAIT_POLICY=passive java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar \
 *     dev.cleave.bench.ConvReport                        # cpu, 1 and 2 threads, with SgemmBench
 * OMP_WAIT_POLICY=passive java --enable-native-access=ALL-UNNAMED -jar benchmarks/target/benchmarks.jar \
 *     ConvBench -p backend=java -p threads=1 -p batch=4   # the Java reference, for scale
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ConvBench {
    /** "cpu" (the C++ kernels) or "java" (the double-precision reference). */
    @Param({"cpu"})
    public String backend;

    @Param({"1", "2"})
    public int threads;

    @Param({"64"})
    public int batch;

    /** The three conv layers of f21-cnn: in, out channels, image side; 3x3, stride 1, padding 1. */
    static final int[][] CONVS = {{1, 64, 28}, {64, 64, 28}, {64, 64, 14}};
    static final int HIDDEN = 128;
    static final int CLASSES = 10;

    /**
     * FLOPs per sample of one benchmark: "conv1".."conv3" (forward + backward; conv1 without dx, as
     * the first layer of the step), "convs" (the three) or "step" (the training step).
     */
    public static double flop(String what) {
        double[] conv = new double[CONVS.length];
        for (int l = 0; l < CONVS.length; l++) {
            double mac = (double) CONVS[l][0] * CONVS[l][1] * 9 * CONVS[l][2] * CONVS[l][2];
            conv[l] = 2 * mac * (l == 0 ? 2 : 3);
        }
        double convs = conv[0] + conv[1] + conv[2];
        double fc = 2.0 * 64 * 7 * 7 * HIDDEN * 3 + 2.0 * HIDDEN * CLASSES * 3;
        return switch (what) {
            case "conv1" -> conv[0];
            case "conv2" -> conv[1];
            case "conv3" -> conv[2];
            case "convs" -> convs;
            case "step" -> convs + fc;
            default -> throw new IllegalArgumentException(what);
        };
    }

    private Backend ops;
    private final List<Tensor> owned = new ArrayList<>();
    private Conv2dShape[] conv;
    private Pool2dShape pool1, pool2;
    private Tensor x, a1, a2, p1, a3, p2, h, logits;
    private Tensor da1, da2, dp1, da3, dp2, dh, dlogits;
    private Tensor[] w, b, gw, gb, mw, vw, mb, vb;
    private IntTensor argmax1, argmax2, labels;
    private long adamStep;

    private Tensor t(int rows, int cols) {
        Tensor z = ops.zeros(rows, cols);
        owned.add(z);
        return z;
    }

    private static void fill(Tensor z, SplittableRandom r, double scale) {
        for (int i = 0; i < z.size(); i++) {
            z.buffer().put(i, (float) ((r.nextDouble() * 2 - 1) * scale));
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        ops = switch (backend) {
            case "cpu" -> new CpuBackend(threads);
            case "java" -> new JavaBackend();
            default -> throw new IllegalArgumentException("backend must be cpu or java, got " + backend);
        };
        SplittableRandom r = new SplittableRandom(11);
        conv = new Conv2dShape[CONVS.length];
        int layers = CONVS.length + 2;
        w = new Tensor[layers];
        b = new Tensor[layers];
        gw = new Tensor[layers];
        gb = new Tensor[layers];
        mw = new Tensor[layers];
        vw = new Tensor[layers];
        mb = new Tensor[layers];
        vb = new Tensor[layers];
        for (int l = 0; l < CONVS.length; l++) {
            conv[l] = new Conv2dShape(batch, CONVS[l][0], CONVS[l][2], CONVS[l][2], CONVS[l][1], 3, 1, 1);
        }
        int[][] wshape = {{64, 9}, {64, 64 * 9}, {64, 64 * 9}, {HIDDEN, 64 * 7 * 7}, {CLASSES, HIDDEN}};
        for (int l = 0; l < layers; l++) {
            w[l] = t(wshape[l][0], wshape[l][1]);
            fill(w[l], r, 1 / Math.sqrt(wshape[l][1]));  // PyTorch's default init range
            b[l] = t(1, wshape[l][0]);
            fill(b[l], r, 1 / Math.sqrt(wshape[l][1]));
            gw[l] = t(wshape[l][0], wshape[l][1]);
            gb[l] = t(1, wshape[l][0]);
            mw[l] = t(wshape[l][0], wshape[l][1]);
            vw[l] = t(wshape[l][0], wshape[l][1]);
            mb[l] = t(1, wshape[l][0]);
            vb[l] = t(1, wshape[l][0]);
        }
        pool1 = new Pool2dShape(batch, 64, 28, 28, 2, 2);
        pool2 = new Pool2dShape(batch, 64, 14, 14, 2, 2);
        x = t(batch, 28 * 28);
        fill(x, r, 1);
        a1 = t(batch, conv[0].outSize());
        a2 = t(batch, conv[1].outSize());
        p1 = t(batch, pool1.outSize());
        a3 = t(batch, conv[2].outSize());
        p2 = t(batch, pool2.outSize());
        h = t(batch, HIDDEN);
        logits = t(batch, CLASSES);
        da1 = t(batch, conv[0].outSize());
        da2 = t(batch, conv[1].outSize());
        dp1 = t(batch, pool1.outSize());
        da3 = t(batch, conv[2].outSize());
        dp2 = t(batch, pool2.outSize());
        dh = t(batch, HIDDEN);
        dlogits = t(batch, CLASSES);
        for (Tensor d : new Tensor[] {da1, da2, da3}) {
            fill(d, r, 1);
        }
        argmax1 = ops.ints(batch * pool1.outSize());
        argmax2 = ops.ints(batch * pool2.outSize());
        labels = ops.ints(batch);
        for (int i = 0; i < batch; i++) {
            labels.set(i, r.nextInt(CLASSES));
        }
        // One forward pass so that every activation (the ReLU masks of the backward passes) is real.
        forward();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        owned.forEach(Tensor::close);
        argmax1.close();
        argmax2.close();
        labels.close();
        ops.close();
    }

    private void forward() {
        ops.conv2dForward(conv[0], x, w[0], b[0], a1, true);
        ops.conv2dForward(conv[1], a1, w[1], b[1], a2, true);
        ops.maxpool2dForward(pool1, a2, p1, argmax1);
        ops.conv2dForward(conv[2], p1, w[2], b[2], a3, true);
        ops.maxpool2dForward(pool2, a3, p2, argmax2);
        ops.linearForward(p2, w[3], b[3], h, true);
        ops.linearForward(h, w[4], b[4], logits, false);
    }

    /** One conv layer forward and backward (dx except for the first), the step's inputs and shapes. */
    private void convLayer(int l) {
        Tensor in = l == 0 ? x : l == 1 ? a1 : p1;
        Tensor out = l == 0 ? a1 : l == 1 ? a2 : a3;
        Tensor dy = l == 0 ? da1 : l == 1 ? da2 : da3;
        Tensor dx = l == 0 ? null : l == 1 ? da1 : dp1;
        ops.conv2dForward(conv[l], in, w[l], b[l], out, true);
        // dy keeps its values from setUp: the ReLU mask, applied in place, is idempotent.
        ops.conv2dBackward(conv[l], in, w[l], out, dy, dx, gw[l], gb[l], true);
    }

    @Benchmark
    public void conv1() {
        convLayer(0);
    }

    @Benchmark
    public void conv2() {
        convLayer(1);
    }

    @Benchmark
    public void conv3() {
        convLayer(2);
    }

    @Benchmark
    public void convs() {
        convLayer(0);
        convLayer(1);
        convLayer(2);
    }

    @Benchmark
    public double step() {
        forward();
        Backend.XentResult loss = ops.softmaxXent(logits, labels, dlogits, 1f / batch);
        ops.linearBackward(h, w[4], logits, dlogits, dh, gw[4], gb[4], false);
        ops.linearBackward(p2, w[3], h, dh, dp2, gw[3], gb[3], true);
        ops.maxpool2dBackward(pool2, dp2, argmax2, da3);
        ops.conv2dBackward(conv[2], p1, w[2], a3, da3, dp1, gw[2], gb[2], true);
        ops.maxpool2dBackward(pool1, dp1, argmax1, da2);
        ops.conv2dBackward(conv[1], a1, w[1], a2, da2, da1, gw[1], gb[1], true);
        ops.conv2dBackward(conv[0], x, w[0], a1, da1, null, gw[0], gb[0], true);
        adamStep++;
        for (int l = 0; l < w.length; l++) {
            ops.adamUpdate(w[l], gw[l], mw[l], vw[l], null, 1e-3f, 0.9f, 0.999f, 1e-8f, adamStep);
            ops.adamUpdate(b[l], gb[l], mb[l], vb[l], null, 1e-3f, 0.9f, 0.999f, 1e-8f, adamStep);
        }
        return loss.lossSum();
    }
}
