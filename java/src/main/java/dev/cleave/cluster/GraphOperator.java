package dev.cleave.cluster;

import dev.cleave.graph.CsrGraph;
import dev.cleave.graph.NetworkGraph;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The normalized adjacency N = D^-1/2 A D^-1/2 of a graph, described for both backends: the
 * scale d^-1/2 per row and the blocks ("pieces") of A. Rows are in operator order: for a
 * bipartite graph the smaller side S comes first (rows 0..half-1), then the side T, so the half
 * operator M = N_ST N_TS lives on the first {@code half} rows. {@code order[t]} is the graph node
 * of operator row t.
 *
 * <p>Network graphs keep their layers: a dense |W| block per layer pair, applied as matrix
 * products (as CSR blocks when a layer is sparse, e.g. after pruning). Both backends copy what
 * they need; this object only describes the operator.
 */
final class GraphOperator {
    /** Dense layers at or below this fill go to CSR blocks (the dense kernel wastes the zeros). */
    static final double CSR_FILL = 0.25;

    final int n;
    final int half;
    final int[] order;
    final double[] scale;
    /** The degree of each operator row (the graph's, exactly: scale = degree^-1/2). */
    final double[] degree;
    final List<Piece> pieces;

    /**
     * y[dst + i] += sum_j A_ij x[src + j]; dense (a: rows x cols) or CSR. A mirrored dense piece
     * also stands for its transpose, y[src + j] += sum_i A_ij x[dst + i].
     */
    record Piece(int dst, int rows, int src, int cols, float[] dense, boolean mirror, long[] offsets, int[] columns,
            float[] weights) {
        static Piece dense(int dst, int rows, int src, int cols, float[] a, boolean mirror) {
            return new Piece(dst, rows, src, cols, a, mirror, null, null, null);
        }

        static Piece csr(int dst, int rows, int src, int cols, long[] offsets, int[] columns, float[] weights) {
            return new Piece(dst, rows, src, cols, null, false, offsets, columns, weights);
        }

        boolean isDense() {
            return dense != null;
        }

        long entries() {
            return isDense() ? (mirror ? 2L : 1L) * rows * cols : weights.length;
        }
    }

    private GraphOperator(int n, int half, int[] order, double[] degrees, List<Piece> pieces) {
        this.n = n;
        this.half = half;
        this.order = order;
        this.degree = new double[order.length];
        for (int t = 0; t < order.length; t++) {
            degree[t] = degrees[order[t]];
        }
        this.scale = inverseSqrt(degrees, order);
        this.pieces = pieces;
    }

    /** Floating-point operations of one application to one vector. */
    double flops() {
        double f = 0;
        for (Piece p : pieces) {
            f += 2.0 * p.entries();
        }
        return f;
    }

    /**
     * The connected components of the graph, per operator row: {@code labels[t]} numbers the
     * components in order of their first operator row. Union-find over the stored non-zero
     * entries of the pieces; in a dense piece, once one row has no zero (all its columns are then
     * in one set) every later row needs only its first non-zero entry.
     */
    int[] componentLabels() {
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        for (Piece p : pieces) {
            boolean colsJoined = false; // a full row of this dense piece has put all its columns in one set
            for (int i = 0; i < p.rows(); i++) {
                if (p.isDense()) {
                    float[] a = p.dense();
                    int c = p.cols(), row = i * c;
                    if (colsJoined) { // one edge joins the row to them all (a dense layer: one union a row)
                        for (int j = 0; j < c; j++) {
                            if (a[row + j] != 0f) {
                                union(parent, p.dst() + i, p.src() + j);
                                break;
                            }
                        }
                        continue;
                    }
                    int nonzero = 0;
                    for (int j = 0; j < c; j++) {
                        if (a[row + j] != 0f) {
                            union(parent, p.dst() + i, p.src() + j);
                            nonzero++;
                        }
                    }
                    colsJoined = nonzero == c;
                } else {
                    for (long e = p.offsets()[i]; e < p.offsets()[i + 1]; e++) {
                        if (p.weights()[(int) e] != 0f) {
                            union(parent, p.dst() + i, p.src() + p.columns()[(int) e]);
                        }
                    }
                }
            }
        }
        int[] label = new int[n];
        java.util.Arrays.fill(label, -1);
        int count = 0;
        for (int t = 0; t < n; t++) {
            int r = find(parent, t);
            if (label[r] < 0) {
                label[r] = count++;
            }
            label[t] = label[r];
        }
        return label;
    }

    private static int find(int[] parent, int a) {
        while (parent[a] != a) {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        return a;
    }

    private static void union(int[] parent, int a, int b) {
        int ra = find(parent, a);
        int rb = find(parent, b);
        if (ra != rb) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
        }
    }

    static double[] inverseSqrt(double[] degrees, int[] order) {
        double[] s = new double[order.length];
        for (int t = 0; t < order.length; t++) {
            s[t] = 1.0 / Math.sqrt(degrees[order[t]]);
        }
        return s;
    }

    /**
     * The operator of a CSR graph without isolated nodes; bipartite graphs (two-colourable) are
     * split into their sides.
     */
    static GraphOperator of(CsrGraph g) {
        int n = g.nodes();
        double[] deg = g.degrees();
        for (int i = 0; i < n; i++) {
            if (!(deg[i] > 0)) {
                throw new InvalidInputException("node " + i + " has degree 0: the normalized Laplacian is undefined there; "
                        + "remove isolated nodes first (CsrGraph.withoutIsolatedNodes(), which SpectralClustering does "
                        + "and reports)");
            }
        }
        long[] off = g.offsets();
        int[] col = g.columns();
        float[] w = g.weights();
        Optional<boolean[]> sides = g.bipartition();
        if (sides.isEmpty() || n < 2) {
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            return new GraphOperator(n, 0, order, deg, List.of(Piece.csr(0, n, 0, n, off, col, w)));
        }
        boolean[] side = sides.get();
        int ones = 0;
        for (boolean b : side) {
            ones += b ? 1 : 0;
        }
        boolean sSide = ones < n - ones; // S = the smaller side
        int half = sSide ? ones : n - ones;
        int[] order = new int[n];
        int[] pos = new int[n];
        int a = 0;
        int b = half;
        for (int i = 0; i < n; i++) {
            int t = side[i] == sSide ? a++ : b++;
            order[t] = i;
            pos[i] = t;
        }
        List<Piece> pieces = new ArrayList<>(2);
        pieces.add(sideBlock(off, col, w, order, pos, half, n, 0, half)); // T rows <- S columns
        pieces.add(sideBlock(off, col, w, order, pos, 0, half, half, n - half)); // S rows <- T columns
        return new GraphOperator(n, half, order, deg, pieces);
    }

    // CSR block of operator rows [r0, r1); their columns all lie in [srcOff, srcOff + cols), the other side.
    private static Piece sideBlock(long[] off, int[] col, float[] w, int[] order, int[] pos, int r0, int r1, int srcOff,
            int cols) {
        int rows = r1 - r0;
        long[] o = new long[rows + 1];
        for (int t = 0; t < rows; t++) {
            int v = order[r0 + t];
            o[t + 1] = o[t] + (off[v + 1] - off[v]);
        }
        int[] c = new int[(int) o[rows]];
        float[] x = new float[c.length];
        int at = 0;
        for (int t = 0; t < rows; t++) {
            int v = order[r0 + t];
            int start = at;
            for (long e = off[v]; e < off[v + 1]; e++) {
                c[at] = pos[col[(int) e]] - srcOff;
                x[at++] = w[(int) e];
            }
            sortRow(c, x, start, at);
        }
        return Piece.csr(r0, rows, srcOff, cols, o, c, x);
    }

    private static void sortRow(int[] c, float[] x, int a, int b) {
        for (int i = a + 1; i < b; i++) { // rows arrive nearly sorted: insertion sort
            int ci = c[i];
            float xi = x[i];
            int j = i - 1;
            while (j >= a && c[j] > ci) {
                c[j + 1] = c[j];
                x[j + 1] = x[j];
                j--;
            }
            c[j + 1] = ci;
            x[j + 1] = xi;
        }
    }

    /**
     * The operator of a network graph: even layers on one side, odd on the other (the smaller
     * group first), one block per weight matrix applied in both directions.
     */
    static GraphOperator of(NetworkGraph g) {
        int layers = g.layers();
        int[] sizes = g.keptLayerSizes();
        int even = 0;
        int odd = 0;
        for (int l = 0; l < layers; l++) {
            if (l % 2 == 0) {
                even += sizes[l];
            } else {
                odd += sizes[l];
            }
        }
        int sParity = even <= odd ? 0 : 1;
        int half = sParity == 0 ? even : odd;
        int[] layerOff = new int[layers];
        int at = 0;
        for (int pass = 0; pass < 2; pass++) {
            int parity = pass == 0 ? sParity : 1 - sParity;
            for (int l = parity; l < layers; l += 2) {
                layerOff[l] = at;
                at += sizes[l];
            }
        }
        int n = at;
        int[] keptOff = g.layerOffsets();
        int[] order = new int[n];
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < sizes[l]; i++) {
                order[layerOff[l] + i] = keptOff[l] + i;
            }
        }
        List<Piece> pieces = new ArrayList<>();
        for (int l = 0; l + 1 < layers; l++) {
            int rows = sizes[l + 1];
            int cols = sizes[l];
            if (rows == 0 || cols == 0) {
                continue;
            }
            FloatMatrix blk = g.absBlock(l);
            float[] a = blk.data();
            long nnz = 0;
            for (float v : a) {
                if (v != 0f) {
                    nnz++;
                }
            }
            if (nnz == 0) {
                continue;
            }
            if (nnz > CSR_FILL * a.length) {
                pieces.add(Piece.dense(layerOff[l + 1], rows, layerOff[l], cols, a, true));
            } else {
                pieces.add(csrOfDense(layerOff[l + 1], rows, layerOff[l], cols, a, false, nnz));
                pieces.add(csrOfDense(layerOff[l], cols, layerOff[l + 1], rows, a, true, nnz));
            }
        }
        return new GraphOperator(n, half, order, g.degrees(), pieces);
    }

    // CSR of a dense block a (rowsA x colsA = rows x cols, or its transpose when transpose).
    private static Piece csrOfDense(int dst, int rows, int src, int cols, float[] a, boolean transpose, long nnz) {
        long[] o = new long[rows + 1];
        int[] c = new int[(int) nnz];
        float[] w = new float[(int) nnz];
        int at = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                float v = transpose ? a[j * rows + i] : a[i * cols + j];
                if (v != 0f) {
                    c[at] = j;
                    w[at++] = v;
                }
            }
            o[i + 1] = at;
        }
        return Piece.csr(dst, rows, src, cols, o, c, w);
    }
}
