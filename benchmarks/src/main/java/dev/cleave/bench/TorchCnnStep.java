package dev.cleave.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * PyTorch 2.10 (libtorch through the bytedeco {@code pytorch} presets) timing the f21-cnn training
 * step at batch 64 exactly as {@code benchmarks/scripts/torch_cnn_step.py} does in Python and
 * {@link ConvBench#step} through Cleave's ops: conv 1->64 ReLU, conv 64->64 ReLU, maxpool 2, conv
 * 64->64 ReLU, maxpool 2, linear 3136->128 ReLU, linear 128->10, cross-entropy, backward, Adam 1e-3,
 * on fixed random inputs; parameters drawn as PyTorch's default init (uniform +-1/sqrt(fan in)).
 * Per thread setting, {@code --samples} timed samples of {@code --steps} steps (after
 * {@code --warmup}); prints one JSON line each with the median and range of samples/s and
 * /proc/loadavg.
 *
 * <p>The pytorch jars are {@code provided} (not in the shaded jar); put them on the class path:
 * <pre>
 * mvn -B -q dependency:copy -Dartifact=org.bytedeco:pytorch:2.10.0-1.5.13 -DoutputDirectory=benchmarks/target/pytorch
 * mvn -B -q dependency:copy -Dartifact=org.bytedeco:pytorch:2.10.0-1.5.13:jar:linux-x86_64 -DoutputDirectory=benchmarks/target/pytorch
 * java --enable-native-access=ALL-UNNAMED -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/pytorch/*' \
 *     dev.cleave.bench.TorchCnnStep --load-only          # once: the first load once crashed in native code
 * java --enable-native-access=ALL-UNNAMED -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/pytorch/*' \
 *     dev.cleave.bench.TorchCnnStep --threads 1,2 --samples 5 --steps 10
 * </pre>
 */
public final class TorchCnnStep {
    private TorchCnnStep() {
    }

    public static void main(String[] args) throws IOException {
        int[] threadSettings = {1, 2};
        int batch = 64, samples = 5, steps = 10, warmup = 5;
        boolean loadOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threadSettings = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--load-only" -> loadOnly = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--threads 1,2, --batch N, --samples N, --steps N, --warmup N, --load-only)");
            }
        }
        Loader.load(torch.class);
        if (loadOnly) {
            try (PointerScope scope = new PointerScope()) {
                float s = torch.relu(torch.ones(4)).sum().item_float();
                System.out.println("{\"loaded\":true,\"sum\":" + s + "}");
            }
            return;
        }
        for (int threads : threadSettings) {
            run(threads, batch, samples, steps, warmup);
        }
    }

    private static void run(int threads, int batch, int samples, int steps, int warmup) throws IOException {
        torch.set_num_threads(threads);
        SplittableRandom r = new SplittableRandom(0);
        try (PointerScope scope = new PointerScope()) {
            // (out, in, kh, kw) and fan in of each layer; linear weights (out, in).
            long[][] shapes = {{64, 1, 3, 3}, {64, 64, 3, 3}, {64, 64, 3, 3}, {128, 3136}, {10, 128}};
            List<Tensor> params = new ArrayList<>();
            Tensor[] w = new Tensor[shapes.length], b = new Tensor[shapes.length];
            for (int l = 0; l < shapes.length; l++) {
                long fanIn = 1;
                for (int d = 1; d < shapes[l].length; d++) {
                    fanIn *= shapes[l][d];
                }
                double bound = 1 / Math.sqrt(fanIn);
                w[l] = uniform(r, -bound, bound, shapes[l]).requires_grad_(true);
                b[l] = uniform(r, -bound, bound, shapes[l][0]).requires_grad_(true);
                params.add(w[l]);
                params.add(b[l]);
            }
            Adam opt = new Adam(new TensorVector(params.toArray(new Tensor[0])), new AdamOptions(1e-3));
            Tensor x = uniform(r, 0, 1, batch, 1, 28, 28);
            long[] labels = new long[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = r.nextInt(10);
            }
            Tensor y;
            try (LongPointer p = new LongPointer(labels)) {
                y = torch.from_blob(p, new long[] {batch}, new TensorOptions(torch.ScalarType.Long)).clone();
            }
            long[] one = {1, 1};
            Runnable step = () -> {
                try (PointerScope s = new PointerScope()) {
                    opt.zero_grad(true);
                    Tensor h = torch.relu(torch.conv2d(x, w[0], new TensorOptional(b[0]), one, one, one, 1));
                    h = torch.relu(torch.conv2d(h, w[1], new TensorOptional(b[1]), one, one, one, 1));
                    h = torch.max_pool2d(h, 2, 2);
                    h = torch.relu(torch.conv2d(h, w[2], new TensorOptional(b[2]), one, one, one, 1));
                    h = torch.max_pool2d(h, 2, 2).flatten(1, 3);
                    h = torch.relu(torch.linear(h, w[3], new TensorOptional(b[3])));
                    Tensor loss = torch.cross_entropy(torch.linear(h, w[4], new TensorOptional(b[4])), y);
                    loss.backward();
                    opt.step();
                    loss.item_float();
                }
            };
            for (int i = 0; i < warmup; i++) {
                step.run();
            }
            String before = load();
            double[] rates = new double[samples];
            for (int s = 0; s < samples; s++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    step.run();
                }
                rates[s] = (double) batch * steps / ((System.nanoTime() - t0) / 1e9);
            }
            double[] sorted = rates.clone();
            Arrays.sort(sorted);
            double med = sorted[sorted.length / 2];
            System.out.println(String.format(Locale.ROOT, "{\"peer\":\"pytorch 2.10 JVM\",\"threads\":%d,\"batch\":%d,"
                    + "\"samples_per_s_median\":%.1f,\"samples_per_s_min\":%.1f,\"samples_per_s_max\":%.1f,"
                    + "\"gflops_median\":%.1f,\"samples\":%d,\"steps_per_sample\":%d,\"loadavg_before\":\"%s\","
                    + "\"loadavg_after\":\"%s\"}", torch.get_num_threads(), batch, med, sorted[0], sorted[sorted.length - 1],
                    med * ConvBench.flop("step") / 1e9, samples, steps, before, load()));
        }
    }

    /** A tensor of the shape with entries uniform in [lo, hi). */
    private static Tensor uniform(SplittableRandom r, double lo, double hi, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + r.nextDouble() * (hi - lo));
        }
        try (FloatPointer p = new FloatPointer(v)) {
            return torch.from_blob(p, shape).clone();
        }
    }

    private static String load() throws IOException {
        Path p = Path.of("/proc/loadavg");
        return Files.exists(p) ? Files.readString(p).trim() : "?";
    }
}
