package dev.cleave.bench;

import dev.cleave.data.DatasetSplit;
import dev.cleave.data.Datasets;
import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * PyTorch 2.10 (libtorch through the bytedeco {@code pytorch} presets) training F21's MLP on
 * Fashion-MNIST exactly as {@code benchmarks/scripts/torch_mlp_epoch.py} does in Python:
 * 784-256-256-256-256-10, ReLU, Glorot-uniform weights and zero biases, Adam 1e-3, batch 128,
 * a fresh permutation per epoch, the batch gathered with {@code index_select} and the loss read
 * back every step. Prints one JSON line per epoch (the training loop only is timed).
 *
 * <p>Not in the shaded benchmarks jar: the pytorch jars are {@code provided}; {@code
 * compare_training.py} puts them on the class path.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar:PYTORCH_JARS \
 *     dev.cleave.bench.TorchMlpEpoch --threads 1 --epochs 3
 * </pre>
 * {@code --load-only} loads libtorch, runs one tiny op and exits (the first load once crashed
 * in native code; the script does this before timing anything).
 */
public final class TorchMlpEpoch {
    private static final int[] WIDTHS = {784, 256, 256, 256, 256, 10};
    private static final int BATCH = 128;

    private TorchMlpEpoch() {
    }

    /** The MLP as a libtorch module: the linear layers registered so Adam sees their parameters. */
    private static final class Mlp extends Module {
        final LinearImpl[] layers = new LinearImpl[WIDTHS.length - 1];

        Mlp() {
            for (int l = 0; l < layers.length; l++) {
                layers[l] = register_module("fc" + l, new LinearImpl(WIDTHS[l], WIDTHS[l + 1]));
                torch.xavier_uniform_(layers[l].weight());
                torch.zeros_(layers[l].bias());
            }
        }

        Tensor forward(Tensor x) {
            for (int l = 0; l < layers.length; l++) {
                x = layers[l].forward(x);
                if (l + 1 < layers.length) {
                    x = torch.relu(x);
                }
            }
            return x;
        }
    }

    public static void main(String[] args) {
        int threads = 1;
        int epochs = 1;
        long seed = 0;
        boolean loadOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--epochs" -> epochs = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--load-only" -> loadOnly = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--threads N, --epochs N, --seed N, --load-only)");
            }
        }
        Loader.load(torch.class);
        if (loadOnly) {
            try (PointerScope scope = new PointerScope()) {
                float s = torch.relu(torch.ones(4)).sum().item_float();
                System.out.println("{\"loaded\":true,\"sum\":" + s + ",\"threads\":" + torch.get_num_threads() + "}");
            }
            return;
        }
        torch.set_num_threads(threads);
        torch.manual_seed(seed);
        DatasetSplit data = Datasets.load("fashion-mnist", null, null);
        Tensor x = floats(data.train().images(), data.train().count());
        Tensor y = longs(data.train().labels());
        Tensor xt = floats(data.test().images(), data.test().count());
        Tensor yt = longs(data.test().labels());
        Mlp model = new Mlp();
        Adam opt = new Adam(model.parameters(), new AdamOptions(1e-3));
        int n = data.train().count();
        String coretype = System.getenv().getOrDefault("OPENBLAS_CORETYPE", "default");
        for (int epoch = 1; epoch <= epochs; epoch++) {
            double total = 0;
            long start;
            try (PointerScope epochScope = new PointerScope()) {
                Tensor perm = torch.randperm(n);
                start = System.nanoTime();
                for (int b = 0; b < n; b += BATCH) {
                    int len = Math.min(BATCH, n - b);
                    try (PointerScope step = new PointerScope()) {
                        Tensor idx = perm.narrow(0, b, len);
                        opt.zero_grad(true);
                        Tensor loss = torch.cross_entropy(model.forward(x.index_select(0, idx)), y.index_select(0, idx));
                        loss.backward();
                        opt.step();
                        total += loss.item_float() * (double) len;
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double accuracy;
            try (AutoGradOff off = new AutoGradOff(); PointerScope evalScope = new PointerScope()) {
                accuracy = model.forward(xt).argmax(new org.bytedeco.pytorch.LongOptional(1), false).eq(yt).sum()
                        .item_long() / (double) data.test().count();
            }
            System.out.println(String.format(Locale.ROOT, "{\"epoch\":%d,\"threads\":%d,\"openblas_coretype\":\"%s\","
                    + "\"train_loss\":%.6f,\"test_accuracy\":%.4f,\"seconds\":%.4f,\"samples_per_s\":%.1f}", epoch,
                    torch.get_num_threads(), coretype, total / n, accuracy, seconds, n / seconds));
        }
    }

    /** Turns gradient recording off for the evaluation, as {@code torch.no_grad()} does. */
    private static final class AutoGradOff implements AutoCloseable {
        private final org.bytedeco.pytorch.NoGradGuard guard = new org.bytedeco.pytorch.NoGradGuard();

        @Override
        public void close() {
            guard.close();
        }
    }

    private static Tensor floats(float[] values, int rows) {
        try (FloatPointer p = new FloatPointer(values)) {
            return torch.from_blob(p, rows, values.length / rows).clone();
        }
    }

    private static Tensor longs(int[] labels) {
        long[] v = new long[labels.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = labels[i];
        }
        try (LongPointer p = new LongPointer(v)) {
            return torch.from_blob(p, new long[] {v.length}, new TensorOptions(torch.ScalarType.Long)).clone();
        }
    }
}
