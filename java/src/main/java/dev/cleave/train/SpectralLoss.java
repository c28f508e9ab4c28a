package dev.cleave.train;

import dev.cleave.cluster.EigenOptions;
import dev.cleave.cluster.EigenResult;
import dev.cleave.cluster.EigenStatus;
import dev.cleave.cluster.LaplacianEigensolver;
import dev.cleave.cluster.Solver;
import dev.cleave.cluster.StepLaplacian;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.nativ.CpuKernels;
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
final class SpectralLoss implements AutoCloseable {
    /** Residual tolerance of the per-step solve: the gradient needs no more. */
    static final double TOLERANCE = 1e-5;
    static final int MAX_ITERATIONS = 500;

    private final SpectralOptions options;
    private final Device engine;  // where the per-step eigensolve runs
    private final int threads;
    private final long seed;
    private double[] warm;     // the previous step's eigenvectors of N, nodes x pairs, graph order
    private Packed packed;     // the native path's buffers
    private StepLaplacian step; // the cpu path's graph and operator, refilled each step
    private boolean general;   // the graph lost the shape StepLaplacian keeps: build it every step

    SpectralLoss(SpectralOptions options, Device engine, int threads, long seed) {
        this.options = options;
        this.engine = engine;
        this.threads = threads;
        this.seed = seed;
    }

    /** Frees the native operator of the cpu path. */
    @Override
    public void close() {
        if (step != null) {
            step.close();
            step = null;
        }
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
        return engine.kind() == Device.Kind.JAVA ? addGradientsReference(model, pass) : addGradientsNative(model, pass);
    }

    /** The eigenpairs of the graph of {@code seen} (one array per layer), warm-started from the previous step's. */
    private EigenResult solve(int[] widths, List<float[]> seen, NetworkGraph[] graphOut) {
        List<FloatMatrix> matrices = new java.util.ArrayList<>(seen.size());
        for (int l = 0; l < seen.size(); l++) {
            matrices.add(new FloatMatrix(widths[l + 1], widths[l], seen.get(l)));
        }
        NetworkGraph graph = NetworkGraph.fromWeights(matrices);
        graphOut[0] = graph;
        int n = graph.nodes();
        EigenOptions eo = eigenOptions(n);
        int pairs = eo.k();
        EigenResult r = warm != null && warm.length == n * pairs ? LaplacianEigensolver.smallestFrom(graph, eo, warm, pairs)
                : LaplacianEigensolver.smallest(graph, eo);
        return converged(r);
    }

    /**
     * As {@link #solve} on the {@link StepLaplacian} path (the graph of every neuron, refilled in
     * place; the same result bit for bit).
     */
    private EigenResult solveStep(StepLaplacian graph) {
        int n = graph.nodes();
        EigenOptions eo = eigenOptions(n);
        int pairs = eo.k();
        boolean fromWarm = warm != null && warm.length == n * pairs;
        return converged(graph.smallestFrom(eo, fromWarm ? warm : null, pairs));
    }

    private EigenOptions eigenOptions(int n) {
        int k = options.k();
        int pairs = k + 1;
        if (pairs > n) {
            throw new InvalidInputException("--spectral-k " + k + " needs at least " + pairs + " connected neurons, the graph has " + n);
        }
        return new EigenOptions(pairs, TOLERANCE, MAX_ITERATIONS, 0, seed, threads, Solver.ITERATIVE, engine);
    }

    /** The result if it converged (and the warm start of the next step); else training has diverged. */
    private EigenResult converged(EigenResult r) {
        if (r.status() != EigenStatus.SUCCESSFUL) {
            throw new TrainingDivergedException("the spectral regulariser's eigensolver did not converge in " + MAX_ITERATIONS
                    + " iterations (" + r.status() + ", residuals " + java.util.Arrays.toString(r.residuals())
                    + "): lower --spectral-lambda or --lr", null);
        }
        warm = r.eigenvectors();
        return r;
    }

    /**
     * The native path (libcleave_cpu: spectral_canonical, spectral_gradient,
     * spectral_canonical_backward on packed layers), bit-identical to
     * {@link #addGradientsReference}; the eigensolve is the same.
     */
    private double addGradientsNative(Mlp model, MlpPass pass) {
        int k = options.k();
        int[] widths = model.widths();
        int layers = model.layers();
        if (packed == null || packed.layers != layers) {
            packed = new Packed(widths, k);
        }
        Packed p = packed;
        for (int l = 0; l < layers; l++) {
            p.readLayer(model.weight(l), p.w, p.woff[l]);
            p.readLayer(model.bias(l), p.b, p.boff[l]);
        }
        boolean canonical = options.rescale() == SpectralOptions.Rescale.CANONICAL;
        if (canonical) {
            CpuKernels.check(CpuKernels.cleave_spectral_canonical(widths, layers, p.w, p.b, p.cw, p.cb, p.factors));
        }
        float[] seen = canonical ? p.cw : p.w;
        EigenResult r;
        int[] kept;
        boolean opened = false;
        if (step == null && !general && engine.kind() == Device.Kind.CPU) {
            step = StepLaplacian.open(widths, seen, threads);
            general = step == null;
            opened = step != null; // built from this step's weights: no refill needed
        }
        if (step != null && (opened || step.refill(seen))) {
            r = solveStep(step);
            kept = null; // every node
        } else {
            if (step != null) { // a non-finite weight, a dead neuron or a pruned (sparse) layer: the general path from now on
                step.close();
                step = null;
                general = true;
            }
            List<float[]> perLayer = new java.util.ArrayList<>(layers);
            for (int l = 0; l < layers; l++) {
                perLayer.add(java.util.Arrays.copyOfRange(seen, p.woff[l], p.woff[l + 1]));
            }
            NetworkGraph[] graph = new NetworkGraph[1];
            r = solve(widths, perLayer, graph);
            kept = graph[0].keptNodes();
        }
        double[] mu = new double[k];
        double[] v = p.v; // k x all nodes, 0 on removed ones
        java.util.Arrays.fill(v, 0.0);
        int pairs = k + 1;
        int count = kept == null ? p.nodes : kept.length;
        double[] vectors = r.eigenvectors();
        for (int q = 1; q <= k; q++) {
            mu[q - 1] = 1.0 - r.eigenvalues()[q];
            for (int i = 0; i < count; i++) {
                v[(q - 1) * p.nodes + (kept == null ? i : kept[i])] = vectors[i * pairs + q];
            }
        }
        java.util.Arrays.fill(p.gw, 0f);
        CpuKernels.check(CpuKernels.cleave_spectral_gradient(widths, layers, seen, k, mu, v, options.lambda(), p.gw));
        if (canonical) {
            java.util.Arrays.fill(p.gb, 0f);
            CpuKernels.check(CpuKernels.cleave_spectral_canonical_backward(widths, layers, p.w, p.b, p.factors, p.gw, p.gb));
        }
        for (int l = 0; l < layers; l++) {
            addInto(pass.weightGrad(l), p.gw, p.woff[l]);
            if (canonical) {
                addInto(pass.biasGrad(l), p.gb, p.boff[l]);
            }
        }
        double value = 0;
        for (double m : mu) {
            value += 1 - m;
        }
        return options.lambda() / (double) k * value;
    }

    /** The packed host buffers of the native path, reused from step to step. */
    private static final class Packed {
        final int layers;
        final int nodes;
        final int[] woff;
        final int[] boff;
        final float[] w, b, cw, cb, gw, gb;
        final double[] factors;
        final double[] v; // the k eigenvectors over all nodes

        Packed(int[] widths, int k) {
            layers = widths.length - 1;
            woff = new int[layers + 1];
            boff = new int[layers + 1];
            int n = 0;
            for (int l = 0; l < layers; l++) {
                woff[l + 1] = Math.toIntExact((long) woff[l] + (long) widths[l + 1] * widths[l]);
                boff[l + 1] = boff[l] + widths[l + 1];
            }
            for (int width : widths) {
                n += width;
            }
            nodes = n;
            v = new double[k * n];
            w = new float[woff[layers]];
            cw = new float[woff[layers]];
            gw = new float[woff[layers]];
            b = new float[boff[layers]];
            cb = new float[boff[layers]];
            gb = new float[boff[layers]];
            factors = new double[Math.max(1, boff[Math.max(0, layers - 1)])];
        }

        void readLayer(Tensor t, float[] into, int offset) {
            if (t.onDevice()) {
                float[] a = t.toArray();
                System.arraycopy(a, 0, into, offset, a.length);
            } else {
                t.buffer().get(0, into, offset, t.size());
            }
        }
    }

    /** The reference path: {@link SpectralRegularizer} in Java, layer by layer. */
    double addGradientsReference(Mlp model, MlpPass pass) {
        int k = options.k();
        int[] widths = model.widths();
        int layers = model.layers();
        float[][] w = SpectralRegularizer.weights(model);
        float[][] b = SpectralRegularizer.biases(model);
        SpectralRegularizer.Canonical canon = options.rescale() == SpectralOptions.Rescale.CANONICAL
                ? new SpectralRegularizer.Canonical(widths, w, b) : null;
        float[][] seen = canon != null ? canon.w : w;
        NetworkGraph[] graphOut = new NetworkGraph[1];
        EigenResult r = solve(widths, java.util.Arrays.asList(seen), graphOut);
        NetworkGraph graph = graphOut[0];
        int n = graph.nodes();
        int pairs = k + 1;
        double[] values = new double[pairs]; // the pairs largest eigenvalues of N, descending
        for (int j = 0; j < pairs; j++) {
            values[j] = 1.0 - r.eigenvalues()[j];
        }
        double[] vectors = r.eigenvectors(); // their unit eigenvectors, n x pairs, graph order
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
            addInto(pass.weightGrad(l), g[l], 0);
            addInto(pass.biasGrad(l), gb[l], 0);
        }
        return value;
    }

    private static void addInto(Tensor grad, float[] add, int offset) {
        if (!grad.onDevice()) { // in place in the host buffer: the same float additions
            java.nio.FloatBuffer b = grad.buffer();
            for (int i = 0, n = grad.size(); i < n; i++) {
                b.put(i, b.get(i) + add[offset + i]);
            }
            return;
        }
        float[] sum = grad.toArray();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += add[offset + i];
        }
        grad.copyFrom(sum);
    }
}
