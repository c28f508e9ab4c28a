package dev.cleave.train;

import dev.cleave.cluster.ChebyshevEigensolver;
import dev.cleave.cluster.Eigenpairs;
import dev.cleave.cluster.NormalizedAdjacency;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Tensor;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.List;
import java.util.SplittableRandom;

/**
 * F21's spectral regulariser in the training loop: each step, the k + 1 largest eigenpairs of
 * the network graph's normalized adjacency (the k + 1 smallest of its Laplacian, the trivial one
 * included) by the Chebyshev eigensolver on the native operator, warm-started from the previous
 * step's vectors; then the analytic gradient of {@link SpectralRegularizer} into the weight
 * gradients. The rescaling of hidden units happens before each step ({@link #beforeStep}).
 */
final class SpectralLoss {
    /** Residual tolerance of the per-step solve: the gradient needs no more. */
    static final double TOLERANCE = 1e-5;
    static final int MAX_ITERATIONS = 500;

    private final SpectralOptions options;
    private final int threads;
    private final SplittableRandom random;
    private double[] warm;     // previous vectors, kept-node x blockSize
    private int warmNodes = -1;

    SpectralLoss(SpectralOptions options, int threads, long seed) {
        this.options = options;
        this.threads = threads;
        this.random = Rng.stream(seed, "spectral");
    }

    void beforeStep(Mlp model) {
        if (options.rescale()) {
            SpectralRegularizer.rescaleHiddenUnits(model);
        }
    }

    /** Adds the regulariser's gradient to the pass's weight gradients; returns its value. */
    double addGradients(Mlp model, MlpPass pass) {
        int k = options.k();
        List<FloatMatrix> weights = model.weightMatrices();
        NetworkGraph graph = NetworkGraph.fromWeights(weights);
        int n = graph.nodes();
        int pairs = k + 1;
        int block = Math.min(n, pairs + Math.max(4, pairs / 3));
        if (pairs > n) {
            throw new InvalidInputException("--spectral-k " + k + " needs at least " + pairs + " connected neurons, the graph has " + n);
        }
        double[] start = new double[n * block];
        for (int i = 0; i < start.length; i++) {
            start[i] = random.nextGaussian();
        }
        if (warm != null && warmNodes == n) {
            for (int i = 0; i < n; i++) {
                System.arraycopy(warm, i * pairs, start, i * block, pairs);
            }
        }
        Eigenpairs e;
        try (NormalizedAdjacency op = NormalizedAdjacency.of(graph, dev.cleave.cluster.Backend.NATIVE, threads)) {
            e = ChebyshevEigensolver.largestFrom(op, pairs, block, -1.0, 1.0, TOLERANCE, MAX_ITERATIONS, start);
        }
        if (e.converged() < pairs) {
            throw new TrainingDivergedException("the spectral regulariser's eigensolver did not converge in " + MAX_ITERATIONS
                    + " iterations (residuals " + java.util.Arrays.toString(e.residuals()) + "): lower --spectral-lambda or --lr",
                    null);
        }
        warm = e.vectors();
        warmNodes = n;
        int[] kept = graph.keptNodes();
        int total = graph.totalNodes();
        double[] mu = new double[k];
        double[][] v = new double[k][total];
        double[] values = e.values();
        double[] vectors = e.vectors();
        for (int p = 1; p <= k; p++) {
            mu[p - 1] = values[p];
            for (int i = 0; i < n; i++) {
                v[p - 1][kept[i]] = vectors[i * pairs + p];
            }
        }
        int[] widths = model.widths();
        float[][] w = new float[weights.size()][];
        float[][] g = new float[weights.size()][];
        for (int l = 0; l < w.length; l++) {
            w[l] = weights.get(l).data();
            g[l] = pass.weightGrad(l).toArray();
        }
        double value = SpectralRegularizer.addGradient(widths, w, mu, v, options.lambda(), g);
        for (int l = 0; l < g.length; l++) {
            Tensor grad = pass.weightGrad(l);
            grad.copyFrom(g[l]);
        }
        return value;
    }
}
