package dev.cleave.train;

import dev.cleave.data.Dataset;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Adam;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Tensor;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import dev.cleave.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The training loop, one epoch at a time: seeded shuffling, minibatch forward/backward on the
 * chosen backend, optional dropout and L1/L2 penalties, the enmeshment loss on the clustered
 * layers once they are assigned, magnitude pruning in the fine-tuning phase, and a fused Adam
 * update per tensor.
 *
 * <p>Every random choice is a pure function of (seed, epoch, step): epoch e's batch order comes
 * from the stream "batches/e" and dropout masks from (the "dropout" stream, global step), so a
 * run resumed from the checkpoint after epoch e reaches the same weights as an uninterrupted
 * one. The model is updated in place; the caller owns and closes it.
 */
public final class Trainer implements AutoCloseable {
    private final TrainConfig config;
    private final Backend backend;
    private final Mlp model;
    private final Adam adam;
    private final MlpPass pass;
    private final long dropoutSeed;
    private final ModularLoss modular;
    private final SpectralLoss spectral;
    private final StepLosses losses;
    private List<Tensor> pruneMasks; // one per layer's weight during the pruning phase, else null
    private int epochsDone;
    private long globalStep;

    public Trainer(TrainConfig config, Backend backend, Mlp model) {
        if (config.backend() != backend.device().kind()) {
            throw new IllegalArgumentException("the config says backend " + config.backend() + " but the ops run on "
                    + backend.device() + ": record the device the run uses (TrainConfig.withDevice)");
        }
        this.config = config;
        this.backend = backend;
        this.model = model;
        this.adam = new Adam(backend, model, config.lr());
        this.pass = new MlpPass(backend, model, config.batchSize());
        this.losses = new StepLosses(backend);
        this.dropoutSeed = Rng.subSeed(config.seed(), "dropout");
        this.modular = config.modular() == null ? null : new ModularLoss(config.modular(), model);
        this.spectral = config.spectral() == null ? null : new SpectralLoss(config.spectral(),
                backend.device(), config.threads(), config.seed());
    }

    /** The model a run starts from: Glorot-uniform from the seed, then the clusterable init if configured. */
    public static Mlp initialModel(TrainConfig config) {
        Mlp model = Mlp.glorotUniform(config.layers(), config.seed());
        if (config.clusterableInit() != null) {
            config.clusterableInit().apply(model, config.seed());
        }
        return model;
    }

    /** {@link #initialModel(TrainConfig)} in {@code backend}'s memory. */
    public static Mlp initialModel(TrainConfig config, Backend backend) {
        Mlp host = initialModel(config);
        if (backend.deviceMemory() == null) {
            return host;
        }
        try (host) {
            return host.copyTo(backend);
        }
    }

    public int epochsDone() {
        return epochsDone;
    }

    public Adam adam() {
        return adam;
    }

    public Mlp model() {
        return model;
    }

    /**
     * A host copy of the model as the run's model file holds it. With the spectral regulariser
     * in {@link SpectralOptions.Rescale#CANONICAL} mode that is the canonical form the
     * regulariser saw: F21's rescaling (each hidden unit at incoming norm sqrt(2), compensated on
     * its outgoing weights), which computes the same function and is what F21's own regularised
     * networks look like (they were rescaled before every batch); clustering the file then
     * measures the structure the regulariser built rather than the arbitrary scales training
     * left along the rescaling symmetry. Otherwise the weights as trained. The checkpoint always
     * keeps the weights as trained, so a resumed run continues exactly.
     */
    public Mlp exportModel() {
        Mlp copy = model.copy();
        if (config.spectral() != null && config.spectral().rescale() == SpectralOptions.Rescale.CANONICAL) {
            SpectralRegularizer.rescaleHiddenUnits(copy);
        }
        return copy;
    }

    /** The clusters of the modular layers, or an empty list before they are assigned (or without --modular). */
    public List<LayerClusters> clusters() {
        return modular == null ? List.of() : modular.clusters();
    }

    /** Whether the next epoch belongs to the pruning phase. */
    private boolean pruningPhase(int epoch) {
        return config.prune() != null && epoch > config.epochs();
    }

    /** Copies of the training state after the last finished epoch. */
    public Checkpoint checkpoint() {
        List<float[]> params = new ArrayList<>();
        for (int l = 0; l < model.layers(); l++) {
            params.add(model.weight(l).toArray());
            params.add(model.bias(l).toArray());
        }
        List<float[]> m = new ArrayList<>();
        List<float[]> v = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            m.add(adam.firstMoments().get(i).toArray());
            v.add(adam.secondMoments().get(i).toArray());
        }
        List<float[]> masks = new ArrayList<>();
        if (pruneMasks != null) {
            for (Tensor t : pruneMasks) {
                masks.add(t.toArray());
            }
        }
        return new Checkpoint(epochsDone, adam.steps(), globalStep, params, m, v, masks, clusters());
    }

    /** Puts this trainer (and its model) in the state {@code c} recorded. */
    public void restore(Checkpoint c) {
        if (c.parameters().size() != 2 * model.layers()) {
            throw new InvalidInputException("the checkpoint has " + c.parameters().size() + " parameter tensors but the model has "
                    + 2 * model.layers());
        }
        for (int l = 0; l < model.layers(); l++) {
            copy(c.parameters().get(2 * l), model.weight(l), "layers." + l + ".weight");
            copy(c.parameters().get(2 * l + 1), model.bias(l), "layers." + l + ".bias");
        }
        for (int i = 0; i < c.parameters().size(); i++) {
            copy(c.firstMoments().get(i), adam.firstMoments().get(i), "Adam first moment " + i);
            copy(c.secondMoments().get(i), adam.secondMoments().get(i), "Adam second moment " + i);
        }
        adam.restoreSteps(c.adamSteps());
        if (!c.pruneMasks().isEmpty()) {
            allocatePruneMasks();
            for (int l = 0; l < model.layers(); l++) {
                copy(c.pruneMasks().get(l), pruneMasks.get(l), "pruning mask " + l);
            }
        }
        if (modular != null && !c.clusters().isEmpty()) {
            modular.restore(c.clusters());
        }
        epochsDone = c.epochsDone();
        globalStep = c.globalStep();
    }

    private static void copy(float[] values, Tensor into, String what) {
        if (values.length != into.size()) {
            throw new InvalidInputException("checkpoint " + what + " has " + values.length + " values, the model needs "
                    + into.size());
        }
        into.copyFrom(values);
    }

    private void allocatePruneMasks() {
        if (pruneMasks == null) {
            pruneMasks = new ArrayList<>();
            for (int l = 0; l < model.layers(); l++) {
                Tensor mask = backend.zeros(model.weight(l).rows(), model.weight(l).cols());
                mask.fill(1f);
                pruneMasks.add(mask);
            }
        }
    }

    /**
     * Trains one epoch on {@code train}, then evaluates on {@code test}. Progress is reported
     * per batch as ("epoch E/N", samples done, samples); a listener may cancel by throwing.
     *
     * @throws TrainingDivergedException when a loss or logit stops being finite
     */
    public EpochMetrics runEpoch(Dataset train, Dataset test, ProgressListener progress) {
        Evaluation.requireCompatible(model, train);
        int epoch = epochsDone + 1;
        boolean pruning = pruningPhase(epoch);
        long start = System.nanoTime();
        int n = train.count();
        int batches = (n + config.batchSize() - 1) / config.batchSize();
        if (pruning && pruneMasks == null) {
            adam.reset(); // F21: fine-tuning with a fresh Adam
            allocatePruneMasks();
        }
        if (modular != null && !modular.assigned() && epochsDone >= config.modular().warmupEpochs()) {
            modular.assign(backend, config.seed());
        }
        long pruneTotal = pruning ? (long) config.prune().epochs() * batches : 0;
        long pruneStepBase = pruning ? (long) (epoch - config.epochs() - 1) * batches : 0;
        int[] order = permutation(n, Rng.stream(config.seed(), "batches/" + epoch));
        String task = "epoch " + epoch + "/" + config.totalEpochs();
        double lossSum = 0;
        double spectralSum = 0;
        losses.discard();
        int batchIndex = 0;
        for (int first = 0; first < n; first += config.batchSize(), batchIndex++) {
            int batch = Math.min(config.batchSize(), n - first);
            if (pruning && (pruneStepBase + batchIndex) % config.prune().every() == 0) {
                prune(config.prune().sparsity(pruneStepBase + batchIndex, pruneTotal));
            }
            if (losses.full()) { // before the upload, whose wait this read's copy makes unnecessary
                lossSum = losses.read(lossSum, epoch, model.outputs(), config.lr());
            }
            pass.loadBatch(train.images(), train.labels(), order, first, batch);
            globalStep++;
            if (spectral != null) {
                spectral.beforeStep(model);
            }
            pass.forward(batch, config.dropout(), dropoutSeed, globalStep);
            pass.lossAndBackward(batch, config.dropout(), losses.log(), losses.slot(globalStep));
            // The penalty's gradient goes into the Adam update unless other terms come after it.
            boolean foldPenalty = (modular == null || !modular.assigned()) && spectral == null;
            if ((config.l1() > 0 || config.l2() > 0) && !foldPenalty) {
                for (int l = 0; l < model.layers(); l++) {
                    backend.weightPenalty(model.weight(l), pass.weightGrad(l), config.l1(), config.l2());
                }
            }
            if (modular != null && modular.assigned()) {
                modular.addGradients(backend, pass);
            }
            if (spectral != null) {
                spectralSum += spectral.addGradients(model, pass) * batch;
            }
            adam.step(backend, model, pass, pruning ? pruneMasks : null, foldPenalty ? config.l1() : 0f,
                    foldPenalty ? config.l2() : 0f);
            progress.progress(task, first + batch, n);
        }
        lossSum = losses.read(lossSum, epoch, model.outputs(), config.lr());
        if (pruning && epoch == config.totalEpochs()) {
            prune(config.prune().to()); // the schedule ends exactly at its target sparsity
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        Evaluation eval = Evaluation.of(model, test, pass);
        if (!Double.isFinite(eval.loss())) {
            throw new TrainingDivergedException("training diverged in epoch " + epoch + ": the test loss is "
                    + eval.loss() + ". Lower --lr (now " + config.lr() + ") and train again.", null);
        }
        epochsDone = epoch;
        Map<String, Double> c = modular != null && modular.assigned() ? modular.clusterability(backend) : null;
        return new EpochMetrics(epoch, pruning ? "prune" : "train", lossSum / n, eval.loss(), eval.accuracy(),
                trainSeconds, n / trainSeconds, c, pruning ? sparsity() : null, spectral == null ? null : spectralSum / n);
    }

    private void prune(float sparsity) {
        for (int l = 0; l < model.layers(); l++) {
            backend.pruneMask(model.weight(l), pruneMasks.get(l), sparsity);
        }
    }

    /** Fraction of weights that are exactly zero, over all layers. */
    private double sparsity() {
        long zeros = 0, total = 0;
        for (int l = 0; l < model.layers(); l++) {
            for (float v : model.weight(l).toArray()) {
                zeros += v == 0f ? 1 : 0;
                total++;
            }
        }
        return (double) zeros / total;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
    static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public void close() {
        adam.close();
        pass.close();
        losses.close();
        if (pruneMasks != null) {
            pruneMasks.forEach(Tensor::close);
        }
        if (modular != null) {
            modular.close();
        }
    }

}
