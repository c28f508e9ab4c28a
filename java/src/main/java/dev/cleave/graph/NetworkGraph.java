package dev.cleave.graph;

import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The graph of a multilayer perceptron (Filan et al. 2021): one node per neuron of every layer,
 * inputs and logits included, and an edge of weight |w| between neurons of consecutive layers.
 * Biases are ignored. Nodes of degree 0, or of a degree below {@link #NEGLIGIBLE_DEGREE} times
 * the largest degree, are removed and reported ({@link #removedNodes()}); the kept nodes'
 * degrees then count only their edges to kept nodes.
 *
 * <p>Why a negligible degree counts as none: weights that get no gradient (a dead ReLU unit's)
 * decay under a weight penalty to float32 subnormals (1e-38 and below) rather than to zero. The
 * spectral embedding divides each node's eigenvector entries by the square root of its degree,
 * so for such a node the eigensolver's error (tolerance 1e-6) becomes coordinates far from every
 * other node's, and k-means spends clusters on them. Below 1e-12 of the largest degree (the
 * tolerance squared) a node's coordinates are noise: it is treated as isolated.
 *
 * <p>The graph is kept layered: per layer, the |W| block restricted to the kept neurons. The
 * spectral engine applies the normalized adjacency as per-layer matrix products on a block of
 * vectors, which is far faster than a generic sparse product; {@link #toCsr()} gives the
 * same graph in CSR form for anything else.
 *
 * <p>Node numbering: the full graph numbers neurons layer by layer, inputs first
 * (784-256-256-256-256-10 gives nodes 0..1817, the logits last). The kept graph numbers the
 * kept nodes 0..nodes()-1 in the same order; {@link #keptNodes()} maps back.
 * Immutable and thread-safe; the weight matrices given are not modified or retained.
 */
public final class NetworkGraph {
    private final int[] layerSizes;
    private final int[][] kept;     // per layer: kept indices within the layer, ascending
    private final float[][] blocks; // per weight: |W| on kept rows x kept cols, row-major
    private final double[] degrees; // per kept node
    private final int[] keptNodes;
    private final List<RemovedNode> removed;
    private final long edges;

    /** A node whose degree is at most this times the largest degree is removed as isolated. */
    public static final double NEGLIGIBLE_DEGREE = 1e-12;

    private NetworkGraph(int[] layerSizes, int[][] kept, float[][] blocks, double[] degrees, int[] keptNodes,
            List<RemovedNode> removed, long edges) {
        this.layerSizes = layerSizes;
        this.kept = kept;
        this.blocks = blocks;
        this.degrees = degrees;
        this.keptNodes = keptNodes;
        this.removed = removed;
        this.edges = edges;
    }

    /**
     * Builds the graph from weight matrices, each (out x in) as in PyTorch, in forward order:
     * weights.get(l) maps layer l to layer l + 1, so its columns must equal the previous
     * matrix's rows.
     *
     * @throws InvalidInputException on an empty list, shapes that do not chain, a non-finite
     *                               weight (named by matrix, row and column), or a network
     *                               whose weights are all zero (no edges to cluster)
     */
    public static NetworkGraph fromWeights(List<FloatMatrix> weights) {
        if (weights == null || weights.isEmpty()) {
            throw new InvalidInputException("a network graph needs at least one weight matrix, got none");
        }
        int layers = weights.size() + 1;
        int[] sizes = new int[layers];
        // One pass per layer, after its shape check: finiteness, |W| and the degrees.
        double[][] deg = new double[layers][];
        float[][] abs = new float[weights.size()][];
        long edges = 0;
        for (int l = 0; l < weights.size(); l++) {
            FloatMatrix w = weights.get(l);
            if (w == null || w.rows() == 0 || w.cols() == 0) {
                throw new InvalidInputException("weight " + l + " is " + (w == null ? "null" : "empty (" + w.rows()
                        + " x " + w.cols() + ")") + "; every layer needs at least one neuron");
            }
            if (l == 0) {
                sizes[0] = w.cols();
                deg[0] = new double[sizes[0]];
            } else if (w.cols() != sizes[l]) {
                throw new InvalidInputException("weight " + l + " is " + w.rows() + " x " + w.cols() + " (out x in) but weight "
                        + (l - 1) + " has " + sizes[l] + " outputs: consecutive layers must chain (in of weight " + l
                        + " = out of weight " + (l - 1) + ")");
            }
            sizes[l + 1] = w.rows();
            deg[l + 1] = new double[sizes[l + 1]];
            float[] d = w.data();
            float[] a = new float[d.length];
            int in = w.cols();
            double[] dIn = deg[l];
            double[] dOut = deg[l + 1];
            for (int r = 0; r < w.rows(); r++) {
                double rowSum = 0.0;
                for (int c = 0, e = r * in; c < in; c++, e++) {
                    float x = d[e];
                    if (!Float.isFinite(x)) {
                        throw new InvalidInputException("weight " + l + " entry [" + r + "][" + c + "] is " + x
                                + "; a network graph needs finite weights");
                    }
                    float m = Math.abs(x);
                    a[e] = m;
                    if (m != 0f) {
                        rowSum += m;
                        dIn[c] += m;
                        edges++;
                    }
                }
                dOut[r] += rowSum;
            }
            abs[l] = a;
        }
        long total = 0;
        for (int s : sizes) {
            total += s;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("network has " + total + " neurons; at most 2^31 - 9 are supported");
        }
        if (edges == 0) {
            throw new InvalidInputException("every weight of the network is zero: its graph has no edges to cluster");
        }
        double maxDegree = 0.0;
        for (double[] dl : deg) {
            for (double x : dl) {
                maxDegree = Math.max(maxDegree, x);
            }
        }
        double negligible = NEGLIGIBLE_DEGREE * maxDegree;
        boolean[][] gone = new boolean[layers][];
        for (int l = 0; l < layers; l++) {
            gone[l] = new boolean[sizes[l]];
        }
        // Removing a node of negligible (non-zero) degree takes its edges out of its neighbours'
        // degrees, which can make one of them negligible in turn: repeat until none is left.
        for (boolean again = true; again; ) {
            again = false;
            for (int l = 0; l < layers; l++) {
                for (int i = 0; i < sizes[l]; i++) {
                    if (!gone[l][i] && deg[l][i] <= negligible) {
                        gone[l][i] = true;
                        again |= deg[l][i] > 0.0;
                    }
                }
            }
            if (again) {
                edges = degreesWithout(gone, abs, sizes, deg);
            }
        }
        int[][] kept = new int[layers][];
        List<RemovedNode> removed = new ArrayList<>();
        int node = 0;
        int nKept = 0;
        for (int l = 0; l < layers; l++) {
            int[] k = new int[sizes[l]];
            int c = 0;
            for (int i = 0; i < sizes[l]; i++, node++) {
                if (!gone[l][i]) {
                    k[c++] = i;
                } else {
                    removed.add(new RemovedNode(node, l, i));
                }
            }
            kept[l] = java.util.Arrays.copyOf(k, c);
            nKept += c;
        }
        int[] keptNodes = new int[nKept];
        double[] degrees = new double[nKept];
        int at = 0;
        int base = 0;
        for (int l = 0; l < layers; l++) {
            for (int i : kept[l]) {
                keptNodes[at] = base + i;
                degrees[at++] = deg[l][i];
            }
            base += sizes[l];
        }
        float[][] blocks = new float[weights.size()][];
        for (int l = 0; l < weights.size(); l++) {
            float[] d = abs[l];
            int in = sizes[l];
            int[] rows = kept[l + 1];
            int[] cols = kept[l];
            if (rows.length == sizes[l + 1] && cols.length == in) {
                blocks[l] = d; // every node kept: |W| as it is
                continue;
            }
            float[] b = new float[rows.length * cols.length];
            for (int r = 0; r < rows.length; r++) {
                int src = rows[r] * in;
                int dst = r * cols.length;
                for (int c = 0; c < cols.length; c++) {
                    b[dst + c] = d[src + cols[c]];
                }
            }
            blocks[l] = b;
        }
        return new NetworkGraph(sizes, kept, blocks, degrees, keptNodes, Collections.unmodifiableList(removed), edges);
    }

    /**
     * Recomputes {@code deg} over the edges between nodes not {@code gone} (0 for the gone ones,
     * in the same summation order as the first pass); returns the number of those edges.
     */
    private static long degreesWithout(boolean[][] gone, float[][] abs, int[] sizes, double[][] deg) {
        for (double[] d : deg) {
            java.util.Arrays.fill(d, 0.0);
        }
        long edges = 0;
        for (int l = 0; l < abs.length; l++) {
            int in = sizes[l];
            float[] a = abs[l];
            for (int r = 0; r < sizes[l + 1]; r++) {
                if (gone[l + 1][r]) {
                    continue;
                }
                double rowSum = 0.0;
                for (int c = 0, e = r * in; c < in; c++, e++) {
                    float m = a[e];
                    if (m != 0f && !gone[l][c]) {
                        rowSum += m;
                        deg[l][c] += m;
                        edges++;
                    }
                }
                deg[l + 1][r] += rowSum;
            }
        }
        return edges;
    }

    /** Number of neuron layers (weight matrices + 1). */
    public int layers() {
        return layerSizes.length;
    }

    /** Width of each layer in the full network, inputs first. */
    public int[] layerSizes() {
        return layerSizes.clone();
    }

    /** Kept (not negligible degree) neurons of each layer. */
    public int[] keptLayerSizes() {
        int[] s = new int[kept.length];
        for (int l = 0; l < kept.length; l++) {
            s[l] = kept[l].length;
        }
        return s;
    }

    /** Indices, within layer l, of its kept neurons (ascending). */
    public int[] keptIndices(int layer) {
        return kept[layer].clone();
    }

    /** Neurons in the full network, removed ones included. */
    public int totalNodes() {
        int t = 0;
        for (int s : layerSizes) {
            t += s;
        }
        return t;
    }

    /** Nodes of the graph (neurons of a degree that is not negligible). */
    public int nodes() {
        return keptNodes.length;
    }

    /** Edges: non-zero weights between kept nodes. */
    public long edges() {
        return edges;
    }

    /** Removed neurons (degree 0 or negligible), in node order, with layer and index. */
    public List<RemovedNode> removedNodes() {
        return removed;
    }

    /** Full-network index of each kept node (ascending). */
    public int[] keptNodes() {
        return keptNodes.clone();
    }

    /** Weighted degree of each kept node, in kept order. */
    public double[] degrees() {
        return degrees.clone();
    }

    /** |W_l| on the kept neurons: (kept of layer l + 1) x (kept of layer l). A copy. */
    public FloatMatrix absBlock(int l) {
        return new FloatMatrix(kept[l + 1].length, kept[l].length, blocks[l].clone());
    }

    /** Index, in the kept graph, of the first kept node of each layer (and nodes() at the end). */
    public int[] layerOffsets() {
        int[] off = new int[kept.length + 1];
        for (int l = 0; l < kept.length; l++) {
            off[l + 1] = off[l] + kept[l].length;
        }
        return off;
    }

    /**
     * Connected components of the kept graph (numbered by smallest kept node), found by
     * union-find over the layer blocks without building the CSR form.
     */
    public Components components() {
        int n = nodes();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        int[] off = layerOffsets();
        for (int l = 0; l + 1 < kept.length; l++) {
            float[] b = blocks[l];
            int in = kept[l].length;
            for (int r = 0; r < kept[l + 1].length; r++) {
                int root = find(parent, off[l + 1] + r);
                for (int c = 0; c < in; c++) {
                    int v = off[l] + c;
                    // dense blocks: after the first rows every column already hangs off this root
                    if (b[r * in + c] != 0f && parent[v] != root) {
                        union(parent, root, v);
                        root = find(parent, root);
                    }
                }
            }
        }
        int[] label = new int[n];
        int[] rootLabel = new int[n];
        java.util.Arrays.fill(rootLabel, -1);
        int[] sizes = new int[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            int r = find(parent, i);
            if (rootLabel[r] < 0) {
                rootLabel[r] = count++;
            }
            label[i] = rootLabel[r];
            sizes[label[i]]++;
        }
        return new Components(count, label, java.util.Arrays.copyOf(sizes, count));
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    private static void union(int[] parent, int a, int b) {
        int ra = find(parent, a);
        int rb = find(parent, b);
        if (ra != rb) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
        }
    }

    /**
     * Per-cluster cut weight: cut[c] sums the weights of edges with exactly one end in cluster c.
     * {@code labels} covers the kept nodes (values in [0, clusters)).
     */
    public double[] cutWeights(int[] labels, int clusters) {
        if (labels.length != nodes()) {
            throw new InvalidInputException("labels must cover the " + nodes() + " kept nodes, got " + labels.length);
        }
        double[] cut = new double[clusters];
        int[] off = layerOffsets();
        for (int l = 0; l + 1 < kept.length; l++) {
            float[] b = blocks[l];
            int in = kept[l].length;
            for (int r = 0; r < kept[l + 1].length; r++) {
                int lr = labels[off[l + 1] + r];
                double out = 0.0;
                for (int c = 0; c < in; c++) {
                    int lc = labels[off[l] + c];
                    if (lc != lr) {
                        float w = b[r * in + c];
                        out += w;
                        cut[lc] += w;
                    }
                }
                cut[lr] += out;
            }
        }
        return cut;
    }

    /** The same graph (kept nodes only) in CSR form. */
    public CsrGraph toCsr() {
        int[] off = layerOffsets();
        int n = nodes();
        long[] offsets = new long[n + 1];
        for (int l = 0; l < kept.length; l++) {
            for (int i = 0; i < kept[l].length; i++) {
                long c = 0;
                if (l > 0) {
                    c += nnzRow(l - 1, i);
                }
                if (l + 1 < kept.length) {
                    c += nnzCol(l, i);
                }
                offsets[off[l] + i + 1] = c;
            }
        }
        for (int i = 0; i < n; i++) {
            offsets[i + 1] += offsets[i];
        }
        if (offsets[n] > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("network graph has " + offsets[n] + " stored entries, too many for CSR form "
                    + "(at most 2^31 - 9); use the layered form");
        }
        int[] columns = new int[(int) offsets[n]];
        float[] weights = new float[columns.length];
        for (int l = 0; l < kept.length; l++) {
            for (int i = 0; i < kept[l].length; i++) {
                int at = (int) offsets[off[l] + i];
                if (l > 0) { // neighbours in layer l - 1: row i of block l - 1
                    float[] b = blocks[l - 1];
                    int in = kept[l - 1].length;
                    for (int c = 0; c < in; c++) {
                        float v = b[i * in + c];
                        if (v != 0f) {
                            columns[at] = off[l - 1] + c;
                            weights[at++] = v;
                        }
                    }
                }
                if (l + 1 < kept.length) { // neighbours in layer l + 1: column i of block l
                    float[] b = blocks[l];
                    int in = kept[l].length;
                    for (int r = 0; r < kept[l + 1].length; r++) {
                        float v = b[r * in + i];
                        if (v != 0f) {
                            columns[at] = off[l + 1] + r;
                            weights[at++] = v;
                        }
                    }
                }
            }
        }
        return CsrGraph.trusted(n, offsets, columns, weights);
    }

    private long nnzRow(int block, int row) {
        float[] b = blocks[block];
        int in = kept[block].length;
        long c = 0;
        for (int j = 0; j < in; j++) {
            if (b[row * in + j] != 0f) {
                c++;
            }
        }
        return c;
    }

    private long nnzCol(int block, int col) {
        float[] b = blocks[block];
        int in = kept[block].length;
        long c = 0;
        for (int r = 0; r < kept[block + 1].length; r++) {
            if (b[r * in + col] != 0f) {
                c++;
            }
        }
        return c;
    }

    @Override
    public String toString() {
        return "NetworkGraph[layers=" + java.util.Arrays.toString(layerSizes) + ", nodes=" + nodes() + ", edges=" + edges
                + ", removed=" + removed.size() + "]";
    }
}
