package dev.cleave.train;

import dev.cleave.cluster.ChebyshevEigensolver;
import dev.cleave.cluster.Eigenpairs;
import dev.cleave.cluster.NormalizedAdjacency;
import dev.cleave.cluster.SymmetricOperator;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nn.Device;
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
 * gradients ({@link SpectralOptions.Rescale} says how rescaling is kept from lowering it).
 */
final class SpectralLoss {
    /** Residual tolerance of the per-step solve: the gradient needs no more. */
    static final double TOLERANCE = 1e-5;
    static final int MAX_ITERATIONS = 500;

    private final SpectralOptions options;
    private final Device engine;  // where the per-step eigensolve runs
    private final int threads;
    private final SplittableRandom random;
    private double[] warm;     // the previous step's vectors (of M or of N), dim x pairs

    SpectralLoss(SpectralOptions options, Device engine, int threads, long seed) {
        this.options = options;
        this.engine = engine;
        this.threads = threads;
        this.random = Rng.stream(seed, "spectral");
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
        int block = Math.min(n, pairs + Math.max(4, pairs / 3));
        if (pairs > n) {
            throw new InvalidInputException("--spectral-k " + k + " needs at least " + pairs + " connected neurons, the graph has " + n);
        }
        double[] values;  // the pairs largest eigenvalues of N, descending
        double[] vectors; // their unit eigenvectors, n x pairs, graph order
        try (NormalizedAdjacency op = NormalizedAdjacency.of(graph, engine, threads)) {
            double[][] half = op.halfSize() >= block ? solve(halfOperator(op), pairs, block, 0.0) : null;
            if (half != null && half[0][pairs - 1] >= dev.cleave.cluster.LaplacianEigensolver.SIGMA2_MIN) {
                values = new double[pairs];
                for (int j = 0; j < pairs; j++) {
                    values[j] = Math.sqrt(half[0][j]);
                }
                vectors = op.liftHalf(half[1], values, pairs);
            } else {
                double[][] full = solve(op, pairs, block, -1.0);
                values = full[0];
                vectors = full[1];
            }
        }
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

    /**
     * The pairs largest eigenpairs of {@code op} (spectrum in [lower, 1]) by the Chebyshev
     * solver, warm-started from the previous step's vectors when they have the same dimension:
     * {values (pairs, descending), vectors (dim x pairs)}.
     */
    private double[][] solve(SymmetricOperator op, int pairs, int block, double lower) {
        int dim = op.size();
        double[] start = new double[dim * block];
        for (int i = 0; i < start.length; i++) {
            start[i] = random.nextGaussian();
        }
        if (warm != null && warm.length == dim * pairs) {
            for (int i = 0; i < dim; i++) {
                System.arraycopy(warm, i * pairs, start, i * block, pairs);
            }
        }
        Eigenpairs e = ChebyshevEigensolver.largestFrom(op, pairs, block, lower, 1.0, TOLERANCE, MAX_ITERATIONS, start);
        if (e.converged() < pairs) {
            throw new TrainingDivergedException("the spectral regulariser's eigensolver did not converge in " + MAX_ITERATIONS
                    + " iterations (residuals " + java.util.Arrays.toString(e.residuals()) + "): lower --spectral-lambda or --lr",
                    null);
        }
        warm = e.vectors();
        return new double[][] {java.util.Arrays.copyOf(e.values(), pairs), e.vectors()};
    }

    /**
     * The half operator M = N_ST N_TS of a network graph (always bipartite: even layers against
     * odd ones). Its eigenvalues are the squares of N's, so the wanted end of the spectrum is
     * separated from the rest by squared gaps and there is no mirror image at -1 to damp: the
     * solver needs several times fewer operator applications than on N.
     */
    private static SymmetricOperator halfOperator(NormalizedAdjacency op) {
        return new SymmetricOperator() {
            @Override
            public int size() {
                return op.halfSize();
            }

            @Override
            public void apply(double[] x, double[] y, int cols) {
                op.applyHalf(x, y, cols);
            }
        };
    }

    private static void addInto(Tensor grad, float[] add) {
        float[] sum = grad.toArray();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += add[i];
        }
        grad.copyFrom(sum);
    }
}
