package dev.cleave.cluster;

import dev.cleave.graph.NetworkGraph;
import dev.cleave.nativ.CpuKernels;
import dev.cleave.nn.Device;
import dev.cleave.util.FloatMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * The Laplacian eigensolver of one MLP's network graph whose weights change from step to step
 * (the spectral regulariser), on the cpu backend: the {@link GraphOperator} and its native op are
 * built once and refilled in place each step by the native kernel spectral_reg_graph (|w|, the
 * degrees and the scale d^-1/2, in one pass over the weights), instead of building a
 * {@link NetworkGraph}, its operator and a fresh native copy of it every step. The refilled op
 * holds exactly what that general path would build, so {@link #smallestFrom} returns the same
 * result bit for bit as {@link LaplacianEigensolver#smallestFrom} on the graph of the same
 * weights.
 *
 * <p>That holds while the graph keeps its shape: every node kept and every layer stored dense,
 * which is certain when no degree is negligible and every layer keeps more nonzero weights than
 * {@link GraphOperator} needs to store it dense (a few weights that an optimizer step leaves at
 * exactly 0 are edges of weight 0 in both paths). {@link #refill} says when a step's weights have
 * a non-finite value, a node of negligible degree or a layer so sparse that the general path
 * would store it as CSR: that step then takes the general path, and a later step may refill again.
 * Not thread-safe; close it to free the native op.
 */
public final class StepLaplacian implements AutoCloseable {
    private final int[] widths;
    private final long[] rowsAt; // operator row of each neuron layer's first node
    private final GraphOperator g;
    private final NativeOperator h;
    private final long[] counts;  // spectral_reg_graph's: non-finite weights, then the zero weights per layer
    private final float[] abs;   // |w| packed, copied into the pieces' Java arrays
    private boolean filled;

    private StepLaplacian(int[] widths, long[] rowsAt, GraphOperator g, NativeOperator h) {
        this.widths = widths;
        this.rowsAt = rowsAt;
        this.g = g;
        this.h = h;
        this.filled = true;
        this.counts = new long[widths.length];
        long size = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            size += (long) widths[l + 1] * widths[l];
        }
        this.abs = new float[Math.toIntExact(size)];
    }

    /**
     * The solver for the graph of {@code packed} (the MLP's weights, layer after layer, each
     * out x in row-major), or null when that graph does not have the shape this class keeps (a
     * node of degree 0 or a layer stored sparse): then use the general path. {@code threads}: the
     * operator's applications (0: every processor, as {@link EigenOptions#threads()}).
     *
     * @throws dev.cleave.util.InvalidInputException as {@link NetworkGraph#fromWeights} (a
     *         non-finite weight, no edges)
     */
    public static StepLaplacian open(int[] widths, float[] packed, int threads) {
        List<FloatMatrix> matrices = new ArrayList<>(widths.length - 1);
        int at = 0;
        for (int l = 0; l + 1 < widths.length; l++) {
            int size = widths[l + 1] * widths[l];
            matrices.add(new FloatMatrix(widths[l + 1], widths[l], java.util.Arrays.copyOfRange(packed, at, at + size)));
            at += size;
        }
        NetworkGraph graph = NetworkGraph.fromWeights(matrices);
        if (graph.nodes() != graph.totalNodes()) {
            return null;
        }
        GraphOperator g = GraphOperator.of(graph);
        int layers = widths.length - 1;
        if (g.pieces.size() != layers) {
            return null;
        }
        long[] rowsAt = new long[widths.length];
        for (int l = 0; l < layers; l++) {
            GraphOperator.Piece p = g.pieces.get(l);
            if (!p.isDense() || !p.mirror() || p.rows() != widths[l + 1] || p.cols() != widths[l]) {
                return null;
            }
            rowsAt[l] = p.src();
            rowsAt[l + 1] = p.dst();
        }
        NativeOperator h = new NativeOperator(g, Threads.resolve(threads));
        return new StepLaplacian(widths.clone(), rowsAt, g, h);
    }

    /**
     * Refills the graph from {@code packed} (same layout as {@link #open}); false, leaving the
     * solver unusable until a refill returns true, when a weight is not finite, a node's degree is
     * negligible (the general path drops that node) or a layer has so many zero weights that the
     * general path stores it sparse.
     */
    public boolean refill(float[] packed) {
        if (packed.length != abs.length) {
            throw new IllegalArgumentException("refill needs " + abs.length + " weights, got " + packed.length);
        }
        CpuKernels.check(CpuKernels.cleave_spectral_reg_graph(h.op(), widths, widths.length - 1, packed, rowsAt, abs,
                g.degree, g.scale, counts));
        filled = counts[0] == 0 && denseLayers() && !negligibleDegree(g.degree);
        if (filled) { // the Java description of the pieces (the solver reads their connected components)
            int at = 0;
            for (GraphOperator.Piece p : g.pieces) {
                System.arraycopy(abs, at, p.dense(), 0, p.dense().length);
                at += p.dense().length;
            }
        }
        return filled;
    }

    /**
     * Whether every layer keeps enough nonzero weights that {@link GraphOperator#of} stores it
     * dense (as it was at {@link #open}): then its zero weights are edges of weight 0 in both
     * paths, which add nothing to a degree or a product.
     */
    private boolean denseLayers() {
        for (int l = 0; l + 1 < widths.length; l++) {
            long size = (long) widths[l + 1] * widths[l];
            if (!(size - counts[1 + l] > GraphOperator.CSR_FILL * size)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a node's degree is so small that {@link NetworkGraph} would drop it ({@link NetworkGraph#NEGLIGIBLE_DEGREE}). */
    private static boolean negligibleDegree(double[] degree) {
        double min = Double.POSITIVE_INFINITY, max = 0.0;
        for (double d : degree) {
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        return min <= NetworkGraph.NEGLIGIBLE_DEGREE * max;
    }

    /** Nodes of the graph (all neurons: none is dropped on this path). */
    public int nodes() {
        return g.n;
    }

    /**
     * As {@link LaplacianEigensolver#smallestFrom}, warm-started from {@code start} (nodes x
     * startColumns in graph order; null for a cold start) on the last refilled graph.
     */
    public EigenResult smallestFrom(EigenOptions options, double[] start, int startColumns) {
        if (!filled) {
            throw new IllegalStateException("the last refill found a non-finite weight, a negligible degree or a sparse layer: use the general path");
        }
        if (options.backend().kind() != Device.Kind.CPU) {
            throw new IllegalArgumentException("StepLaplacian runs on the cpu backend, got " + options.backend());
        }
        return LaplacianEigensolver.solve(h, g, options, start, start == null ? 0 : startColumns, System.nanoTime());
    }

    /** The operator's description (tests). */
    GraphOperator operator() {
        return g;
    }

    /** The native op (tests). */
    NativeOperator handle() {
        return h;
    }

    @Override
    public void close() {
        h.close();
    }
}
