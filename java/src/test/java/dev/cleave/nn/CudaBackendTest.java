package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.data.Dataset;
import dev.cleave.testing.EmuLaunches;
import dev.cleave.train.EpochMetrics;
import dev.cleave.train.ModularOptions;
import dev.cleave.train.PruneOptions;
import dev.cleave.train.SpectralOptions;
import dev.cleave.train.TrainConfig;
import dev.cleave.train.Trainer;
import dev.cleave.util.ProgressListener;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The cuda backend end to end (training with dropout, L1/L2, the enmeshment loss and pruning),
 * run on the CPU emulation of the CUDA kernels, against the cpu backend. The same class of
 * checks runs on a real GPU in dev.cleave.cuda.CudaGpuParityTest.
 */
class CudaBackendTest {
    static Dataset data(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 16];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int p = 0; p < 16; p++) {
                x[i * 16 + p] = Math.min(1f, Math.max(0f, (p % 3 == y[i] ? 0.7f : 0.2f) + 0.2f * (float) r.nextGaussian()));
            }
        }
        return new Dataset("tiny", 4, 4, 3, x, y);
    }

    @Test
    void trainingOnEmulatedCudaMatchesCpu() {
        Dataset train = data(96, 1), test = data(40, 2);
        TrainConfig cfg = new TrainConfig("tiny", null, new int[] {16, 12, 8, 3}, 2, 32, 1e-2f, 0.2f, 1e-4f, 1e-4f, 3, Device.Kind.CPU, 1,
                new ModularOptions(2f, 2, "all", 1, "balanced"), PruneOptions.f21(1), null, null);
        float[][] weights = new float[2][];
        EpochMetrics[] last = new EpochMetrics[2];
        trainOnCpuAndEmulatedCuda(cfg, train, test, weights, last);
        for (int i = 0; i < weights[0].length; i++) {
            assertEquals(weights[0][i], weights[1][i], 2e-4 + 2e-3 * Math.abs(weights[0][i]), "layers.1.weight[" + i + "]");
        }
        assertEquals(last[0].testAccuracy(), last[1].testAccuracy(), 0.03);
        assertEquals(last[0].sparsity(), last[1].sparsity(), 1e-9);
        assertTrue(last[1].clusterability().get("layers.1.weight") > 0);
    }

    /**
     * Co-clustered modular training and the spectral regulariser on cuda-emu: the co-clustering
     * and the per-step eigensolve then run on the emulated CUDA spectral engine, and the result
     * matches cpu (which uses the native engine) to the same tolerance.
     */
    @Test
    void clusteringInsideTrainingRunsOnTheTrainingBackend() {
        Dataset train = data(96, 3), test = data(40, 4);
        TrainConfig cfg = new TrainConfig("tiny", null, new int[] {16, 12, 8, 3}, 2, 32, 1e-2f, 0f, 0f, 0f, 5, Device.Kind.CPU, 1,
                new ModularOptions(2f, 2, "hidden", 1, "cocluster"), null, null,
                new SpectralOptions(0.1f, 2, SpectralOptions.Rescale.CANONICAL));
        float[][] weights = new float[2][];
        EpochMetrics[] last = new EpochMetrics[2];
        EmuLaunches.reset();
        trainOnCpuAndEmulatedCuda(cfg, train, test, weights, last);
        // the co-clustering (operator, k-means assignment) and the training ops ran on the emulated kernels
        EmuLaunches.assertLaunched(EmuLaunches.perKernel(), "cuda-emu training", "spectral_dense_kernel", "spectral_scale_kernel",
                "kmeans_assign_kernel", "gemm_kernel", "softmax_xent_record_kernel", "adam_update_multi_kernel", "enmeshment_sums_kernel");
        for (int i = 0; i < weights[0].length; i++) {
            assertEquals(weights[0][i], weights[1][i], 2e-4 + 2e-3 * Math.abs(weights[0][i]), "layers.1.weight[" + i + "]");
        }
        assertEquals(last[0].spectral(), last[1].spectral(), 1e-4);
        assertEquals(last[0].clusterability().get("layers.1.weight"), last[1].clusterability().get("layers.1.weight"), 1e-4);
    }

    /**
     * Trains cfg on cpu (index 0) and cuda-emu (index 1); layer 1's weights and the last epoch's
     * metrics of each.
     */
    private static void trainOnCpuAndEmulatedCuda(TrainConfig cfg, Dataset train, Dataset test, float[][] weights,
            EpochMetrics[] last) {
        Backend[] backends = {Device.cpu(1).open(), Device.cudaEmu().withThreads(1).open()};
        for (int b = 0; b < 2; b++) {
            try (Backend backend = backends[b]; Mlp model = Trainer.initialModel(cfg, backend);
                    Trainer t = new Trainer(cfg.withDevice(backend.device()), backend, model)) {
                assertEquals(b == 1, model.weight(0).onDevice());
                while (t.epochsDone() < cfg.totalEpochs()) {
                    last[b] = t.runEpoch(train, test, ProgressListener.NONE);
                }
                weights[b] = model.weight(1).toArray();
            }
        }
    }
}
