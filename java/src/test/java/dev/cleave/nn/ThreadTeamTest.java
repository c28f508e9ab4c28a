package dev.cleave.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The cpu kernels split their work into parts fixed by the threads set (cleave_set_threads),
 * whatever the team of threads that runs them: training steps and the conv, pooling, batchnorm,
 * penalty and enmeshment ops give bit-identical results for every team, and the adaptive rule
 * moves the team only past its hysteresis.
 */
class ThreadTeamTest {
    private static final int[] WIDTHS = {784, 256, 130, 10};

    /** Weights, biases and the loss of every step after {@code steps} Adam steps with dropout and an L1/L2 penalty. */
    private static List<float[]> train(int threads, int team, int steps) {
        List<float[]> out = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend(threads); Mlp model = Mlp.glorotUniform(WIDTHS, 5);
                MlpPass pass = new MlpPass(cpu, model, 96); Adam adam = new Adam(cpu, model, 1e-3f)) {
            CpuKernels.check(CpuKernels.cleave_set_team(team));
            assertEquals(team, CpuKernels.cleave_get_team());
            Random r = new Random(3);
            float[] losses = new float[steps];
            for (int s = 0; s < steps; s++) {
                for (int i = 0; i < pass.input().size(); i++) {
                    pass.input().buffer().put(i, (float) r.nextDouble());
                }
                for (int i = 0; i < 96; i++) {
                    pass.labels().set(i, r.nextInt(10));
                }
                pass.forward(96, 0.25f, 11, s + 1);
                losses[s] = (float) pass.lossAndBackward(96, 0.25f).lossSum();
                for (int l = 0; l < model.layers(); l++) {
                    losses[s] += (float) cpu.weightPenalty(model.weight(l), pass.weightGrad(l), 1e-4f, 1e-3f);
                }
                adam.step(cpu, model, pass, null);
            }
            out.add(losses);
            for (int l = 0; l < model.layers(); l++) {
                out.add(model.weight(l).toArray());
                out.add(model.bias(l).toArray());
            }
        }
        return out;
    }

    private static void assertBitIdentical(String what, List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i), 0f, what + ", array " + i);
        }
    }

    @Test
    void trainingIsBitIdenticalForEveryTeam() {
        for (int threads : new int[] {2, 3}) {
            List<float[]> full = train(threads, threads, 4);
            for (int team = 1; team < threads; team++) {
                assertBitIdentical(threads + " threads, team " + team, full, train(threads, team, 4));
            }
        }
    }

    private static Tensor random(Random r, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) {
            t.buffer().put(i, (float) r.nextGaussian());
        }
        return t;
    }

    /** conv2d forward and backward, maxpool and batchnorm (training mode) outputs and gradients. */
    private static List<float[]> convOps(int threads, int team) {
        List<float[]> out = new ArrayList<>();
        Conv2dShape s = new Conv2dShape(7, 3, 12, 12, 8, 3, 1, 1);
        Pool2dShape p = new Pool2dShape(7, 8, 12, 12, 2, 2);
        BatchNorm2dShape bn = new BatchNorm2dShape(7, 8, 12, 12);
        Random r = new Random(9);
        try (CpuBackend cpu = new CpuBackend(threads); Tensor x = random(r, s.batch(), s.inSize());
                Tensor w = random(r, s.outChannels(), s.patchSize()); Tensor b = random(r, 1, s.outChannels());
                Tensor y = Tensor.zeros(s.batch(), s.outSize()); Tensor dy = random(r, s.batch(), s.outSize());
                Tensor dx = Tensor.zeros(s.batch(), s.inSize()); Tensor dw = Tensor.zeros(s.outChannels(), s.patchSize());
                Tensor db = Tensor.zeros(1, s.outChannels()); Tensor pooled = Tensor.zeros(p.batch(), p.outSize());
                IntTensor argmax = cpu.ints(p.batch() * p.outSize()); Tensor gamma = random(r, 1, 8);
                Tensor beta = random(r, 1, 8); Tensor mean = Tensor.zeros(1, 8); Tensor var = Tensor.zeros(1, 8);
                Tensor saveMean = Tensor.zeros(1, 8); Tensor saveInv = Tensor.zeros(1, 8);
                Tensor ybn = Tensor.zeros(bn.batch(), bn.size()); Tensor dxbn = Tensor.zeros(bn.batch(), bn.size());
                Tensor dgamma = Tensor.zeros(1, 8); Tensor dbeta = Tensor.zeros(1, 8)) {
            CpuKernels.check(CpuKernels.cleave_set_team(team));
            cpu.conv2dForward(s, x, w, b, y, true);
            cpu.conv2dBackward(s, x, w, y, dy, dx, dw, db, true);
            cpu.maxpool2dForward(p, y, pooled, argmax);
            cpu.batchnorm2dForward(bn, y, gamma, beta, mean, var, ybn, saveMean, saveInv, true, 0.1f, 1e-5f);
            cpu.batchnorm2dBackward(bn, y, gamma, saveMean, saveInv, dy, dxbn, dgamma, dbeta, true);
            for (Tensor t : List.of(y, dy, dx, dw, db, pooled, ybn, dxbn, dgamma, dbeta, mean, var)) {
                out.add(t.toArray());
            }
            // 8 -> 8 channels, 3x3 stride 1: the Winograd path.
            Conv2dShape s2 = new Conv2dShape(7, 8, 12, 12, 8, 3, 1, 1);
            try (Tensor w2 = random(r, 8, s2.patchSize()); Tensor y2 = Tensor.zeros(s2.batch(), s2.outSize());
                    Tensor dy2 = random(r, s2.batch(), s2.outSize()); Tensor dx2 = Tensor.zeros(s2.batch(), s2.inSize());
                    Tensor dw2 = Tensor.zeros(8, s2.patchSize()); Tensor db2 = Tensor.zeros(1, 8)) {
                cpu.conv2dForward(s2, y, w2, b, y2, true);
                cpu.conv2dBackward(s2, y, w2, y2, dy2, dx2, dw2, db2, true);
                for (Tensor t : List.of(y2, dy2, dx2, dw2, db2)) out.add(t.toArray());
            }
        }
        return out;
    }

    @Test
    void convPoolAndBatchnormAreBitIdenticalForEveryTeam() {
        for (int threads : new int[] {2, 3}) {
            List<float[]> full = convOps(threads, threads);
            for (int team = 1; team < threads; team++) {
                assertBitIdentical("conv ops, " + threads + " threads, team " + team, full, convOps(threads, team));
            }
        }
    }

    @Test
    void teamMovesOnlyPastTheHysteresis() {
        // 2 cores: shrinks when the others keep more than 0.6 of a core, grows back under 0.4.
        assertEquals(2, CpuKernels.cleave_team_decision(2, 2, 2.0));
        assertEquals(2, CpuKernels.cleave_team_decision(2, 2, 1.45));
        assertEquals(1, CpuKernels.cleave_team_decision(2, 2, 1.35));
        assertEquals(1, CpuKernels.cleave_team_decision(2, 2, 0.1));
        assertEquals(1, CpuKernels.cleave_team_decision(1, 2, 1.55));
        assertEquals(2, CpuKernels.cleave_team_decision(1, 2, 1.65));
        assertEquals(1, CpuKernels.cleave_team_decision(1, 2, Double.NaN));
        // never above the threads set nor below 1
        assertEquals(4, CpuKernels.cleave_team_decision(1, 4, 16));
        assertEquals(1, CpuKernels.cleave_team_decision(8, 8, -3));
        // 16 cores, one busy: 15; four busy: 12
        assertEquals(15, CpuKernels.cleave_team_decision(16, 16, 15.0));
        assertEquals(12, CpuKernels.cleave_team_decision(16, 16, 12.0));
        assertEquals(12, CpuKernels.cleave_team_decision(12, 16, 12.5));
    }

    @Test
    void adaptiveTeamStaysWithinTheThreadsAndFixedThreadsResetIt() {
        try (CpuBackend cpu = new CpuBackend(Device.cpu(2).withLoadAdaptiveThreads(true))) {
            int team = CpuKernels.cleave_get_team();
            assertTrue(team >= 1 && team <= 2, "team " + team);
            assertEquals(2, CpuKernels.cleave_get_threads());
        }
        try (CpuBackend cpu = new CpuBackend(2)) {
            assertEquals(2, CpuKernels.cleave_get_team());
            assertFalse(cpu.device().loadAdaptive());
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> CpuKernels.check(CpuKernels.cleave_set_team(3)));
            assertTrue(e.getMessage().contains("set_team"), e.getMessage());
        }
    }
}
