package dev.cleave.train;

import dev.cleave.data.Dataset;
import dev.cleave.modular.LayerClusters;
import dev.cleave.nn.Adam;
import dev.cleave.nn.Backend;
import dev.cleave.nn.Layer;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Network;
import dev.cleave.nn.NetworkPass;
import dev.cleave.nn.Tensor;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.ProgressListener;
import dev.cleave.util.Rng;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The training loop, one epoch at a time: seeded shuffling, minibatch forward/backward on the
 * chosen backend, optional dropout and L1/L2 penalties, the enmeshment loss on the clustered
 * layers once they are assigned, magnitude pruning in the fine-tuning phase, and a fused Adam
 * update per tensor. It trains an {@link Mlp} (the MLP fast path, with the enmeshment loss and
 * the spectral regulariser) or a {@link Network} (any layer sequence: conv, pooling, batchnorm,
 * dropout layers; with the enmeshment loss on chosen linear and conv layers); penalties and
 * pruning act on every linear and conv weight, never on biases or batchnorm.
 *
 * <p>Every random choice is a pure function of (seed, epoch, step): epoch e's batch order comes
 * from the stream "batches/e" and dropout masks from (the "dropout" stream, global step), so a
 * run resumed from the checkpoint after epoch e reaches the same weights as an uninterrupted
 * one. The model is updated in place; the caller owns and closes it.
 */
public final class Trainer implements AutoCloseable {
    private final TrainConfig config;
    private final Backend backend;
    private final Mlp model;           // the MLP path, else null
    private final MlpPass pass;
    private final Network network;     // the network path, else null
    private final NetworkPass netPass;
    private final List<String> names = new ArrayList<>();  // trainable tensors, Adam's order
    private final List<Tensor> params = new ArrayList<>();
    private final List<Tensor> grads = new ArrayList<>();
    private final List<Integer> weights = new ArrayList<>(); // indices into params: linear and conv weights
    private final List<Network.Named> buffers = new ArrayList<>(); // batchnorm running statistics
    private final Adam adam;
    private final long dropoutSeed;
    private final ModularLoss modular;
    private final SpectralLoss spectral;
    private final StepLosses losses;   // the MLP path's per-step loss records, else null
    private float[] l1PerLayer, l2PerLayer, noPenalty; // penalty rates per weight (aligned with weights); zeros
    private List<Tensor> pruneMasks; // one per weight (aligned with weights) during the pruning phase, else null
    private int epochsDone;
    private long globalStep;

    public Trainer(TrainConfig config, Backend backend, Mlp model) {
        requireDevice(config, backend);
        if (config.layers() == null) {
            throw new IllegalArgumentException("the config is of a network (--arch " + config.arch() + "): train a Network");
        }
        this.config = config;
        this.backend = backend;
        this.model = model;
        this.pass = new MlpPass(backend, model, config.batchSize());
        this.losses = new StepLosses(backend);
        this.network = null;
        this.netPass = null;
        for (int l = 0; l < model.layers(); l++) {
            weights.add(params.size());
            names.add("layers." + l + ".weight");
            params.add(model.weight(l));
            grads.add(pass.weightGrad(l));
            names.add("layers." + l + ".bias");
            params.add(model.bias(l));
            grads.add(pass.biasGrad(l));
        }
        this.adam = new Adam(backend, model, config.lr());
        this.dropoutSeed = Rng.subSeed(config.seed(), "dropout");
        this.modular = config.modular() == null ? null : ModularLoss.of(config.modular(), model, pass);
        this.spectral = config.spectral() == null ? null : new SpectralLoss(config.spectral(),
                backend.device(), config.threads(), config.seed());

        penaltyRates();
    }

    /** A trainer of a network (a config with --arch that is not an MLP); the network is in the backend's memory. */
    public Trainer(TrainConfig config, Backend backend, Network network) {
        requireDevice(config, backend);
        if (config.layers() != null) {
            throw new IllegalArgumentException("the config is of an MLP: train an Mlp");
        }
        this.config = config;
        this.backend = backend;
        this.model = null;
        this.pass = null;
        this.network = network;
        this.netPass = new NetworkPass(backend, network, config.batchSize());
        this.losses = null;
        List<Tensor> g = netPass.gradients();
        for (int i = 0; i < network.tensors().size(); i++) {
            Network.Named t = network.tensors().get(i);
            if (!t.spec().role().trainable()) {
                buffers.add(t);
                continue;
            }
            if (t.spec().role() == Layer.Role.WEIGHT) {
                weights.add(params.size());
            }
            names.add(t.name());
            params.add(t.tensor());
            grads.add(g.get(i));
        }
        this.adam = new Adam(backend, params, config.lr());
        this.dropoutSeed = Rng.subSeed(config.seed(), "dropout");
        this.modular = config.modular() == null ? null : ModularLoss.of(config.modular(), network, netPass);
        this.spectral = null;
        penaltyRates();
    }

    /** The L1 and L2 rates of each weight (--l1 on the --l1-layers, --l2 on the --l2-layers). */
    private void penaltyRates() {
        l1PerLayer = config.l1PerLayer(weights.size());
        l2PerLayer = config.l2PerLayer(weights.size());
        noPenalty = new float[weights.size()];
    }

    private static void requireDevice(TrainConfig config, Backend backend) {
        if (config.backend() != backend.device().kind()) {
            throw new IllegalArgumentException("the config says backend " + config.backend() + " but the ops run on "
                    + backend.device() + ": record the device the run uses (TrainConfig.withDevice)");
        }
    }

    /**
     * The network a run off the MLP path starts from, in {@code backend}'s memory:
     * Glorot-uniform from the seed ({@link Network#glorotUniform}), then the clusterable init if
     * configured.
     */
    public static Network initialNetwork(TrainConfig config, Backend backend) {
        try (Network host = Network.glorotUniform(config.network(), config.seed())) {
            if (config.clusterableInit() != null) {
                config.clusterableInit().apply(host, config.seed());
            }
            return host.copyTo(backend);
        }
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

    /** The MLP being trained, or null on the network path. */
    public Mlp model() {
        return model;
    }

    /** The network being trained, or null on the MLP path. */
    public Network network() {
        return network;
    }

    /**
     * Writes the model file of the current state ({@link #exportModel()} for an MLP; the network
     * as trained otherwise), atomically.
     */
    public void saveModel(Path file, Map<String, String> extra) throws IOException {
        if (model != null) {
            try (Mlp exported = exportModel()) {
                ModelFile.save(file, exported, config, extra);
            }
        } else {
            try (Network host = network.copy()) {
                ModelFile.save(file, host, config, extra, globalStep);
            }
        }
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
        if (model == null) {
            throw new IllegalStateException("exportModel is for MLPs; a network is saved with saveModel");
        }
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
        List<float[]> values = new ArrayList<>();
        List<float[]> m = new ArrayList<>();
        List<float[]> v = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            values.add(params.get(i).toArray());
            m.add(adam.firstMoments().get(i).toArray());
            v.add(adam.secondMoments().get(i).toArray());
        }
        Map<String, float[]> running = new LinkedHashMap<>();
        for (Network.Named b : buffers) {
            running.put(b.name(), b.tensor().toArray());
        }
        Map<String, float[]> masks = new LinkedHashMap<>();
        if (pruneMasks != null) {
            for (int k = 0; k < weights.size(); k++) {
                masks.put(names.get(weights.get(k)), pruneMasks.get(k).toArray());
            }
        }
        return new Checkpoint(epochsDone, adam.steps(), globalStep, names, values, m, v, running, masks, clusters());
    }

    /** Puts this trainer (and its model) in the state {@code c} recorded. */
    public void restore(Checkpoint c) {
        if (!c.names().equals(names) || !new ArrayList<>(c.buffers().keySet()).equals(buffersNames())) {
            throw new InvalidInputException("the checkpoint holds the tensors " + c.names() + " " + c.buffers().keySet()
                    + " but the model has " + names + " " + buffersNames());
        }
        for (int i = 0; i < params.size(); i++) {
            copy(c.parameters().get(i), params.get(i), names.get(i));
            copy(c.firstMoments().get(i), adam.firstMoments().get(i), "Adam first moment of " + names.get(i));
            copy(c.secondMoments().get(i), adam.secondMoments().get(i), "Adam second moment of " + names.get(i));
        }
        for (Network.Named b : buffers) {
            copy(c.buffers().get(b.name()), b.tensor(), b.name());
        }
        adam.restoreSteps(c.adamSteps());
        if (!c.pruneMasks().isEmpty()) {
            allocatePruneMasks();
            for (int k = 0; k < weights.size(); k++) {
                String name = names.get(weights.get(k));
                float[] mask = c.pruneMasks().get(name);
                if (mask == null) {
                    throw new InvalidInputException("the checkpoint has pruning masks but none for " + name);
                }
                copy(mask, pruneMasks.get(k), "pruning mask of " + name);
            }
        }
        if (modular != null && !c.clusters().isEmpty()) {
            modular.restore(c.clusters());
        }
        epochsDone = c.epochsDone();
        globalStep = c.globalStep();
    }

    private List<String> buffersNames() {
        return buffers.stream().map(Network.Named::name).toList();
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
            for (int k : weights) {
                Tensor w = params.get(k);
                Tensor mask = backend.zeros(w.rows(), w.cols());
                mask.fill(1f);
                pruneMasks.add(mask);
            }
        }
    }

    /** The Adam masks: the pruning mask of each weight, null for the other parameters. */
    private List<Tensor> adamMasks() {
        List<Tensor> out = new ArrayList<>(java.util.Collections.nCopies(params.size(), (Tensor) null));
        for (int k = 0; k < weights.size(); k++) {
            out.set(weights.get(k), pruneMasks.get(k));
        }
        return out;
    }

    /**
     * Trains one epoch on {@code train}, then evaluates on {@code test}. Progress is reported
     * per batch as ("epoch E/N", samples done, samples); a listener may cancel by throwing.
     *
     * @throws TrainingDivergedException when a loss or logit stops being finite
     */
    public EpochMetrics runEpoch(Dataset train, Dataset test, ProgressListener progress) {
        if (model != null) {
            Evaluation.requireCompatible(model, train);
        } else {
            Evaluation.requireCompatible(network, train);
        }
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
        if (losses != null) {
            losses.discard();
        }
        int batchIndex = 0;
        for (int first = 0; first < n; first += config.batchSize(), batchIndex++) {
            int batch = Math.min(config.batchSize(), n - first);
            if (pruning && (pruneStepBase + batchIndex) % config.prune().every() == 0) {
                prune(config.prune().sparsity(pruneStepBase + batchIndex, pruneTotal));
            }
            if (losses != null && losses.full()) { // before the upload, whose wait this read's copy makes unnecessary
                lossSum = losses.read(lossSum, epoch, model.outputs(), config.lr());
            }
            if (model != null) {
                pass.loadBatch(train.images(), train.labels(), order, first, batch);
            } else {
                netPass.loadBatch(train.images(), train.labels(), order, first, batch);
            }
            globalStep++;
            if (spectral != null) {
                spectral.beforeStep(model);
            }
            if (model != null) {
                // The MLP's loss stays in the step's record until losses.read (which reports divergence).
                pass.forward(batch, config.dropout(), dropoutSeed, globalStep);
                pass.lossAndBackward(batch, config.dropout(), losses.log(), losses.slot(globalStep));
            } else {
                try {
                    netPass.forward(batch, true, dropoutSeed, globalStep);
                    lossSum += netPass.lossAndBackward(batch).lossSum();
                } catch (ArithmeticException e) {
                    throw new TrainingDivergedException("training diverged in epoch " + epoch + " at step " + globalStep
                            + ": " + e.getMessage() + ". The checkpoint of the last finished epoch is kept; lower --lr (now "
                            + config.lr() + ") and train again.", e);
                }
            }
            // On the MLP path the penalty's gradient goes into the Adam update unless other terms come after it.
            boolean foldPenalty = model != null && (modular == null || !modular.assigned()) && spectral == null;
            if ((config.l1() > 0 || config.l2() > 0) && !foldPenalty) {
                for (int j = 0; j < weights.size(); j++) {
                    if (l1PerLayer[j] > 0 || l2PerLayer[j] > 0) {
                        backend.weightPenalty(params.get(weights.get(j)), grads.get(weights.get(j)), l1PerLayer[j], l2PerLayer[j]);
                    }
                }
            }
            if (modular != null && modular.assigned()) {
                modular.addGradients(backend);
            }
            if (spectral != null) {
                spectralSum += spectral.addGradients(model, pass) * batch;
            }
            if (model != null) {
                adam.step(backend, model, pass, pruning ? pruneMasks : null, foldPenalty ? l1PerLayer : noPenalty,
                        foldPenalty ? l2PerLayer : noPenalty);
            } else {
                adam.step(backend, params, grads, pruning ? adamMasks() : null);
            }
            progress.progress(task, first + batch, n);
        }
        if (losses != null) {
            lossSum = losses.read(lossSum, epoch, model.outputs(), config.lr());
        }
        if (pruning && epoch == config.totalEpochs()) {
            prune(config.prune().to()); // the schedule ends exactly at its target sparsity
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        Evaluation eval = model != null ? Evaluation.of(model, test, pass) : Evaluation.of(network, test, netPass);
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
        for (int k = 0; k < weights.size(); k++) {
            backend.pruneMask(params.get(weights.get(k)), pruneMasks.get(k), sparsity);
        }
    }

    /** Fraction of weights that are exactly zero, over all linear and conv weights. */
    private double sparsity() {
        long zeros = 0, total = 0;
        for (int k : weights) {
            for (float v : params.get(k).toArray()) {
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
        if (pass != null) {
            pass.close();
        }
        if (netPass != null) {
            netPass.close();
        }
        if (losses != null) {
            losses.close();
        }
        if (pruneMasks != null) {
            pruneMasks.forEach(Tensor::close);
        }
        if (modular != null) {
            modular.close();
        }
        if (spectral != null) {
            spectral.close();
        }
    }

}
