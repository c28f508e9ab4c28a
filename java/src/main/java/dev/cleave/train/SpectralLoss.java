package dev.cleave.train;

import dev.cleave.cluster.EigenOptions;
import dev.cleave.cluster.EigenResult;
import dev.cleave.cluster.EigenStatus;
import dev.cleave.cluster.LaplacianEigensolver;
import dev.cleave.cluster.Solver;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
import dev.cleave.nn.Mlp;
import dev.cleave.nn.MlpPass;
import dev.cleave.nn.Tensor;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.List;

/**
 * F21's spectral regulariser in the training loop: each step, the k + 1 largest eigenpairs of
 * the network graph's normalized adjacency (the k + 1 smallest of its Laplacian, the trivial one
 * included) by the Laplacian eigensolver ({@link LaplacianEigensolver#smallestFrom}: the one
 * Chebyshev driver, on the bipartite half operator with the lift to N, on the training's
 * engine), warm-started from the previous step's eigenvectors; then the analytic gradient of {@link SpectralRegularizer} into the weight
 * gradients ({@link SpectralOptions.Rescale} says how rescaling is kept from lowering it).
 */
final class SpectralLoss {
    /** Residual tolerance of the per-step solve: the gradient needs no more. */
    static final double TOLERANCE = 1e-5;
    static final int MAX_ITERATIONS = 500;

    private final SpectralOptions options;
    private final Device engine;  // where the per-step eigensolve runs
    private final int threads;
    private final long seed;
    private double[] warm;     // the previous step's eigenvectors of N, nodes x pairs, graph order

    SpectralLoss(SpectralOptions options, Device engine, int threads, long seed) {
        this.options = options;
        this.engine = engine;
        this.threads = threads;
        this.seed = seed;
    }

    /** F21's rescaling of the network itself, in {@link SpectralOptions.Rescale#COMPENSATE} mode only. */
    void beforeStep(Mlp model) {
        if (options.rescale() == SpectralOptions.Rescale.COMPENSATE) {
            SpectralRegularizer.rescaleHiddenUnits(model);
        }
    }

    /**
     * Adds the regulariser's gradient to the pass's weight (and, in canonical mode, bias)
     * gradients; returns its value. In {@link SpectralOptions.Rescale#CANONICAL} mode the
     * regulariser is evaluated on the network's canonical form and its gradient taken through
     * it ({@link SpectralRegularizer.Canonical}).
     */
    double addGradients(Mlp model, MlpPass pass) {
        int k = options.k();
        int[] widths = model.widths();
        int layers = model.layers();
        float[][] w = SpectralRegularizer.weights(model);
        float[][] b = SpectralRegularizer.biases(model);
        SpectralRegularizer.Canonical canon = options.rescale() == SpectralOptions.Rescale.CANONICAL
                ? new SpectralRegularizer.Canonical(widths, w, b) : null;
        float[][] seen = canon != null ? canon.w : w;
        List<FloatMatrix> matrices = new java.util.ArrayList<>(layers);
        for (int l = 0; l < layers; l++) {
            matrices.add(new FloatMatrix(widths[l + 1], widths[l], seen[l]));
        }
        NetworkGraph graph = NetworkGraph.fromWeights(matrices);
        int n = graph.nodes();
        int pairs = k + 1;
        if (pairs > n) {
            throw new InvalidInputException("--spectral-k " + k + " needs at least " + pairs + " connected neurons, the graph has " + n);
        }
        EigenOptions eo = new EigenOptions(pairs, TOLERANCE, MAX_ITERATIONS, 0, seed, threads, Solver.ITERATIVE, engine);
        EigenResult r = warm != null && warm.length == n * pairs ? LaplacianEigensolver.smallestFrom(graph, eo, warm, pairs)
                : LaplacianEigensolver.smallest(graph, eo);
        if (r.status() != EigenStatus.SUCCESSFUL) {
            throw new TrainingDivergedException("the spectral regulariser's eigensolver did not converge in " + MAX_ITERATIONS
                    + " iterations (" + r.status() + ", residuals " + java.util.Arrays.toString(r.residuals())
                    + "): lower --spectral-lambda or --lr", null);
        }
        warm = r.eigenvectors();
        double[] lambda = r.eigenvalues();
        double[] values = new double[pairs]; // the pairs largest eigenvalues of N, descending
        for (int j = 0; j < pairs; j++) {
            values[j] = 1.0 - lambda[j];
        }
        double[] vectors = warm; // their unit eigenvectors, n x pairs, graph order
        int[] kept = graph.keptNodes();
        int total = graph.totalNodes();
        double[] mu = new double[k];
        double[][] v = new double[k][total];
        for (int p = 1; p <= k; p++) {
            mu[p - 1] = values[p];
            for (int i = 0; i < n; i++) {
                v[p - 1][kept[i]] = vectors[i * pairs + p];
            }
        }
        float[][] g = new float[layers][];
        float[][] gb = new float[layers][];
        for (int l = 0; l < layers; l++) {
            g[l] = new float[w[l].length];
            gb[l] = new float[b[l].length];
        }
        double value = SpectralRegularizer.addGradient(widths, seen, mu, v, options.lambda(), g);
        if (canon != null) {
            canon.gradientBack(g, gb);
        }
        for (int l = 0; l < layers; l++) {
            addInto(pass.weightGrad(l), g[l]);
            addInto(pass.biasGrad(l), gb[l]);
        }
        return value;
    }

    private static void addInto(Tensor grad, float[] add) {
        float[] sum = grad.toArray();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += add[i];
        }
        grad.copyFrom(sum);
    }
}
