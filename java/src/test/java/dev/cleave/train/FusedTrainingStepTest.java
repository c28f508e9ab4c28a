package dev.cleave.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cleave.data.Dataset;
import dev.cleave.nativ.CudaApi;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Device;
import dev.cleave.nn.IntTensor;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.Tensor;
import dev.cleave.testing.EmuLaunches;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's launch-bound training step. An F21 step (784-256-256-256-256-10, dropout and L2 on)
 * on the cuda backend, counted by the CUDA emulator: at most 12 kernel launches and at most one
 * host synchronisation per step (the wait for the pinned buffer the batch before last was copied
 * from; none on a step that reads the loss log, whose copy waits for everything). And the step's
 * fused ops give exactly the parameters and epoch loss of the unfused op sequence the trainer ran
 * before (rebuilt here from the ops), bit for bit, on cuda-emu and on cpu.
 */
class FusedTrainingStepTest {
    private static final int BATCH = 4;

    /** Random 28 x 28 images in [0, 1) with 10 classes. */
    private static Dataset images(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 784];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(10);
            for (int p = 0; p < 784; p++) {
                x[i * 784 + p] = r.nextFloat() * (p % 10 == y[i] ? 1f : 0.5f);
            }
        }
        return new Dataset("images", 28, 28, 10, x, y);
    }

    private static TrainConfig f21(Device device) {
        return new TrainConfig("images", null, Mlp.F21_WIDTHS, 1, BATCH, 1e-3f, 0.2f, 0f, 1e-4f, 17, Device.Kind.CPU, 1,
                null, null, null, null).withDevice(device);
    }

    @Test
    void f21StepOnCudaMakesAtMost12LaunchesAndOneHostSynchronisation() {
        // more steps than the loss log holds, so that a step reads it
        int steps = StepLosses.EVERY + 6;
        Dataset train = images(steps * BATCH, 1), test = images(8, 2);
        Device device = Device.cudaEmu().withThreads(1);
        CudaApi api = device.cuda();
        boolean syncCheck = api.syncCheck();
        api.check(api.setSyncCheck(false));
        List<long[]> after = new ArrayList<>(); // {launches, host syncs} after each step
        try (Backend backend = device.open(); Mlp model = Trainer.initialModel(f21(device), backend);
                Trainer t = new Trainer(f21(device), backend, model)) {
            EmuLaunches.reset();
            t.runEpoch(train, test, (task, done, total) -> after.add(new long[] {EmuLaunches.total(), EmuLaunches.hostSyncs()}));
        } finally {
            api.check(api.setSyncCheck(syncCheck));
        }
        assertEquals(steps, after.size());
        // step 1 allocates (scratch, pinned buffers): steps 2.. are the steady state
        for (int s = 1; s < steps; s++) {
            long launches = after.get(s)[0] - after.get(s - 1)[0], syncs = after.get(s)[1] - after.get(s - 1)[1];
            String what = "step " + (s + 1) + " of an F21 epoch on cuda-emu";
            assertTrue(launches <= 12, what + ": " + launches + " kernel launches, expected at most 12");
            assertTrue(launches >= 12, what + ": " + launches + " kernel launches: one per layer forward and backward, "
                    + "one softmax_xent_record and one adam_update_multi make 12");
            assertTrue(syncs <= 1, what + ": " + syncs + " host synchronisations, expected at most 1");
        }
    }

    /**
     * The same counters on the unfused op sequence the trainer ran before: 49 launches (5 GEMMs + 4
     * dropout masks forward; softmax_xent and its sum; 4 dropout_backward, 5 ReLU/bias passes, 5 + 4
     * GEMMs backward; 5 x 2 for weight_penalty; 10 adam_update) and 9 host synchronisations (2
     * pageable uploads, 2 copies in softmax_xent, 5 penalty values) per step: what the counters see.
     */
    @Test
    void theUnfusedStepCountedTheSameWayMade49LaunchesAnd9HostSynchronisations() {
        Dataset train = images(4 * BATCH, 5);
        Device device = Device.cudaEmu().withThreads(1);
        CudaApi api = device.cuda();
        boolean syncCheck = api.syncCheck();
        api.check(api.setSyncCheck(false));
        List<long[]> after = new ArrayList<>();
        try (Backend backend = device.open()) {
            EmuLaunches.reset();
            unfusedEpoch(backend, f21(device), train, new double[1],
                    () -> after.add(new long[] {EmuLaunches.total(), EmuLaunches.hostSyncs()}));
        } finally {
            api.check(api.setSyncCheck(syncCheck));
        }
        for (int s = 1; s < after.size(); s++) {
            assertEquals(49, after.get(s)[0] - after.get(s - 1)[0], "launches of unfused step " + (s + 1));
            assertEquals(9, after.get(s)[1] - after.get(s - 1)[1], "host synchronisations of unfused step " + (s + 1));
        }
    }

    @Test
    void fusedStepGivesTheParametersOfTheUnfusedOpsBitForBit() {
        int steps = 6;
        Dataset train = images(steps * BATCH - 1, 3), test = images(8, 4); // a short last batch
        for (Device device : new Device[] {Device.cudaEmu().withThreads(1), Device.cpu(1)}) {
            TrainConfig cfg = f21(device);
            List<float[]> fused = new ArrayList<>();
            double fusedLoss;
            try (Backend backend = device.open(); Mlp model = Trainer.initialModel(cfg, backend);
                    Trainer t = new Trainer(cfg, backend, model)) {
                fusedLoss = t.runEpoch(train, test, (task, done, total) -> {}).trainLoss();
                for (int l = 0; l < model.layers(); l++) {
                    fused.add(model.weight(l).toArray());
                    fused.add(model.bias(l).toArray());
                }
            }
            double[] unfusedLoss = new double[1];
            List<float[]> unfused;
            try (Backend backend = device.open()) {
                unfused = unfusedEpoch(backend, cfg, train, unfusedLoss);
            }
            for (int i = 0; i < fused.size(); i++) {
                float[] a = unfused.get(i), b = fused.get(i);
                for (int j = 0; j < a.length; j++) {
                    if (Float.floatToRawIntBits(a[j]) != Float.floatToRawIntBits(b[j])) {
                        fail("on " + device + ", parameter tensor " + i + "[" + j + "]: unfused ops " + a[j]
                                + ", fused step " + b[j]);
                    }
                }
            }
            assertEquals(Double.doubleToRawLongBits(unfusedLoss[0]), Double.doubleToRawLongBits(fusedLoss),
                    "epoch loss on " + device + ": unfused " + unfusedLoss[0] + ", fused " + fusedLoss);
        }
    }

    /**
     * One epoch as the trainer ran it before the fused ops: linear_forward + dropout_forward,
     * softmax_xent (host result), dropout_backward + linear_backward (ReLU mask in place),
     * weight_penalty, one adam_update per tensor. Returns w0, b0, w1, b1, ... and the epoch loss.
     */
    private static List<float[]> unfusedEpoch(Backend b, TrainConfig cfg, Dataset train, double[] loss) {
        return unfusedEpoch(b, cfg, train, loss, () -> {});
    }

    private static List<float[]> unfusedEpoch(Backend b, TrainConfig cfg, Dataset train, double[] loss, Runnable afterStep) {
        List<Tensor> all = new ArrayList<>();
        try (Mlp model = Trainer.initialModel(cfg, b); IntTensor labels = b.ints(cfg.batchSize())) {
            int[] widths = model.widths();
            int layers = model.layers(), features = widths[0];
            List<Tensor> acts = new ArrayList<>(), grads = new ArrayList<>(), masks = new ArrayList<>(),
                    gw = new ArrayList<>(), gb = new ArrayList<>(), m = new ArrayList<>(), v = new ArrayList<>();
            for (int l = 0; l < widths.length; l++) {
                acts.add(b.zeros(cfg.batchSize(), widths[l]));
                grads.add(b.zeros(cfg.batchSize(), widths[l]));
            }
            for (int l = 0; l < layers; l++) {
                masks.add(b.zeros(cfg.batchSize(), widths[l + 1]));
                gw.add(b.zeros(widths[l + 1], widths[l]));
                gb.add(b.zeros(1, widths[l + 1]));
                for (Tensor p : List.of(model.weight(l), model.bias(l))) {
                    m.add(b.zeros(p.rows(), p.cols()));
                    v.add(b.zeros(p.rows(), p.cols()));
                }
            }
            for (List<Tensor> list : List.of(acts, grads, masks, gw, gb, m, v)) {
                all.addAll(list);
            }
            int n = train.count();
            int[] order = Trainer.permutation(n, Rng.stream(cfg.seed(), "batches/1"));
            long dropoutSeed = Rng.subSeed(cfg.seed(), "dropout");
            double lossSum = 0;
            long step = 0;
            for (int first = 0; first < n; first += cfg.batchSize()) {
                int batch = Math.min(cfg.batchSize(), n - first);
                float[] staging = new float[batch * features];
                int[] batchLabels = new int[batch];
                for (int r = 0; r < batch; r++) {
                    int idx = order[first + r];
                    System.arraycopy(train.images(), idx * features, staging, r * features, features);
                    batchLabels[r] = train.labels()[idx];
                }
                acts.get(0).copyFrom(staging, 0, 0, batch * features);
                labels.copyFrom(batchLabels, 0, batch);
                step++;
                for (int l = 0; l < layers; l++) {
                    boolean hidden = l + 1 < layers;
                    Tensor y = acts.get(l + 1).rows(batch);
                    b.linearForward(acts.get(l).rows(batch), model.weight(l), model.bias(l), y, hidden);
                    if (hidden) {
                        b.dropoutForward(y, masks.get(l).rows(batch), cfg.dropout(), dropoutSeed, step * layers + l);
                    }
                }
                lossSum += b.softmaxXent(acts.get(layers).rows(batch), labels, grads.get(layers).rows(batch), 1.0f / batch)
                        .lossSum();
                for (int l = layers - 1; l >= 0; l--) {
                    boolean hidden = l + 1 < layers;
                    Tensor dy = grads.get(l + 1).rows(batch);
                    if (hidden) {
                        b.dropoutBackward(dy, masks.get(l).rows(batch));
                    }
                    b.linearBackward(acts.get(l).rows(batch), model.weight(l), acts.get(l + 1).rows(batch), dy,
                            l == 0 ? null : grads.get(l).rows(batch), gw.get(l), gb.get(l), hidden);
                }
                for (int l = 0; l < layers; l++) {
                    b.weightPenalty(model.weight(l), gw.get(l), cfg.l1(), cfg.l2());
                }
                for (int l = 0; l < layers; l++) {
                    b.adamUpdate(model.weight(l), gw.get(l), m.get(2 * l), v.get(2 * l), null, cfg.lr(), 0.9f, 0.999f, 1e-8f,
                            step);
                    b.adamUpdate(model.bias(l), gb.get(l), m.get(2 * l + 1), v.get(2 * l + 1), null, cfg.lr(), 0.9f, 0.999f,
                            1e-8f, step);
                }
                afterStep.run();
            }
            loss[0] = lossSum / n;
            List<float[]> out = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                out.add(model.weight(l).toArray());
                out.add(model.bias(l).toArray());
            }
            return out;
        } finally {
            all.forEach(Tensor::close);
        }
    }
}
