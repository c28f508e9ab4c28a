package dev.cleave.graph;

import dev.cleave.util.InvalidInputException;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.LongFunction;
import org.eclipse.collections.api.list.primitive.FloatList;
import org.eclipse.collections.api.list.primitive.IntList;
import org.eclipse.collections.impl.list.mutable.primitive.FloatArrayList;
import org.eclipse.collections.impl.list.mutable.primitive.IntArrayList;

/**
 * An undirected weighted graph in compressed sparse row form: immutable, validated, thread-safe.
 *
 * <p>Node i's neighbours are {@code columns[offsets[i] .. offsets[i+1])}, sorted ascending, with
 * weights {@code weights[...]}. Every edge is stored in both directions with the same weight.
 * Guarantees after construction: weights finite and {@code > 0} (explicit zeros are dropped, they
 * are not edges), column indices in range, no duplicate entries (repeated input entries are an
 * error or summed, see {@link Duplicates}), exactly symmetric, no self loops (see
 * {@link SelfLoops}). Degrees are summed in double precision.
 *
 * <p>Builders copy their inputs and never modify them. The array accessors return copies; the
 * per-entry accessors ({@link #rowStart}, {@link #column}, {@link #weight}) read without copying.
 */
public final class CsrGraph {
    private final int nodes;
    private final long[] offsets;
    private final int[] columns;
    private final float[] weights;
    private final double[] degrees;

    private CsrGraph(int nodes, long[] offsets, int[] columns, float[] weights) {
        this.nodes = nodes;
        this.offsets = offsets;
        this.columns = columns;
        this.weights = weights;
        this.degrees = new double[nodes];
        for (int i = 0; i < nodes; i++) {
            double d = 0.0;
            for (long e = offsets[i]; e < offsets[i + 1]; e++) {
                d += weights[(int) e];
            }
            degrees[i] = d;
        }
    }

    /** For builders in this package whose output is valid by construction (sorted, symmetric). */
    static CsrGraph trusted(int nodes, long[] offsets, int[] columns, float[] weights) {
        return new CsrGraph(nodes, offsets, columns, weights);
    }

    /**
     * A graph from CSR arrays that already hold both directions of every edge. Rows need not be
     * sorted; zero weights are dropped; self loops are rejected.
     *
     * @throws InvalidInputException naming the first bad entry: out-of-range index, negative or
     *                               non-finite weight, duplicate, missing or unequal mirror entry
     */
    public static CsrGraph of(int nodes, long[] offsets, int[] columns, float[] weights) {
        return of(nodes, offsets, columns, weights, SelfLoops.REJECT);
    }

    /** As {@link #of(int, long[], int[], float[])}, with a policy for diagonal entries. */
    public static CsrGraph of(int nodes, long[] offsets, int[] columns, float[] weights, SelfLoops selfLoops) {
        if (nodes < 0) {
            throw new InvalidInputException("nodes must be >= 0, got " + nodes);
        }
        if (offsets == null || columns == null || weights == null) {
            throw new InvalidInputException("offsets, columns and weights must not be null");
        }
        if (offsets.length != nodes + 1) {
            throw new InvalidInputException("offsets must have nodes + 1 = " + (nodes + 1) + " entries, got "
                    + offsets.length);
        }
        if (offsets[0] != 0) {
            throw new InvalidInputException("offsets[0] must be 0, got " + offsets[0]);
        }
        for (int i = 0; i < nodes; i++) {
            if (offsets[i + 1] < offsets[i]) {
                throw new InvalidInputException("offsets must not decrease: offsets[" + (i + 1) + "] = "
                        + offsets[i + 1] + " < offsets[" + i + "] = " + offsets[i]);
            }
        }
        long nnz = offsets[nodes];
        if (nnz != columns.length || nnz != weights.length) {
            throw new InvalidInputException("offsets[nodes] = " + nnz + " must equal columns.length = "
                    + columns.length + " and weights.length = " + weights.length);
        }
        int[] rows = new int[(int) nnz];
        for (int i = 0; i < nodes; i++) {
            Arrays.fill(rows, (int) offsets[i], (int) offsets[i + 1], i);
        }
        return fromEntries(nodes, IntArrayList.newListWith(rows), IntArrayList.newListWith(columns),
                FloatArrayList.newListWith(weights), false, EntryRules.forCode(selfLoops, false),
                e -> "entry " + e + " (row " + rows[(int) e] + ")");
    }

    /**
     * A graph from an undirected edge list: edge e joins {@code from[e]} and {@code to[e]} with
     * weight {@code weights[e]}; list each edge once (either orientation). Zero weights are
     * dropped; self loops are rejected; an edge listed twice is an error.
     */
    public static CsrGraph fromEdges(int nodes, int[] from, int[] to, float[] weights) {
        return fromEdges(nodes, from, to, weights, SelfLoops.REJECT);
    }

    /** As {@link #fromEdges(int, int[], int[], float[])}, with a policy for self loops. */
    public static CsrGraph fromEdges(int nodes, int[] from, int[] to, float[] weights, SelfLoops selfLoops) {
        if (from == null || to == null || weights == null) {
            throw new InvalidInputException("from, to and weights must not be null");
        }
        if (from.length != to.length || from.length != weights.length) {
            throw new InvalidInputException("from, to and weights must have equal lengths, got " + from.length
                    + ", " + to.length + ", " + weights.length);
        }
        if (nodes < 0) {
            throw new InvalidInputException("nodes must be >= 0, got " + nodes);
        }
        return fromEntries(nodes, IntArrayList.newListWith(from), IntArrayList.newListWith(to),
                FloatArrayList.newListWith(weights), true, EntryRules.forCode(selfLoops, true), e -> "edge " + e);
    }

    /**
     * How the shared builder treats diagonal and repeated entries, what its error messages tell
     * the user to do about each (the fix depends on who called: code or a file reader), and the
     * number of the first node in those messages (0 for arrays, 1 for 1-based files).
     */
    record EntryRules(SelfLoops selfLoops, Duplicates duplicates, String selfLoopFix, String duplicateFix, int base) {
        EntryRules {
            if (selfLoops == null || duplicates == null) {
                throw new InvalidInputException("the selfLoops (REJECT or DROP) and duplicates (SUM or REJECT) policies "
                        + "must not be null");
            }
        }

        /** The rules of the array builders: duplicates are errors, the fix names the Java option. */
        static EntryRules forCode(SelfLoops selfLoops, boolean mirror) {
            return new EntryRules(selfLoops, Duplicates.REJECT, "remove diagonal entries or build with SelfLoops.DROP, "
                    + "which ignores them as scipy's Laplacian does", mirror ? "list each undirected edge once" : "merge duplicates",
                    0);
        }
    }

    /**
     * The shared builder. Entry e is (rows[e], cols[e], vals[e]); with {@code mirror} each entry
     * also stands for its mirror (an undirected edge), otherwise the entries must already be
     * symmetric (after duplicates are summed, if the rules say so). {@code where} names an entry
     * in error messages ("g.mtx line 17"). The lists are read, never modified.
     */
    static CsrGraph fromEntries(int nodes, IntList rows, IntList cols, FloatList vals, boolean mirror, EntryRules rules,
            LongFunction<String> where) {
        int count = rows.size();
        int b = rules.base();
        long[] rowCount = new long[nodes + 1];
        boolean[] keep = new boolean[count];
        for (int e = 0; e < count; e++) {
            int i = rows.get(e);
            int j = cols.get(e);
            float w = vals.get(e);
            if (i < 0 || i >= nodes || j < 0 || j >= nodes) {
                throw new InvalidInputException(where.apply(e) + ": node index (" + i + ", " + j
                        + ") is outside [0, " + nodes + ")");
            }
            if (!Float.isFinite(w)) {
                throw new InvalidInputException(where.apply(e) + ": weight of (" + (i + b) + ", " + (j + b) + ") is " + w
                        + "; weights must be finite (fix or drop the entries that produced it)");
            }
            if (w < 0f) {
                throw new InvalidInputException(where.apply(e) + ": weight of (" + (i + b) + ", " + (j + b) + ") is " + w
                        + "; edge weights must be >= 0 (take absolute values of signed weights)");
            }
            if (i == j) {
                if (rules.selfLoops() == SelfLoops.REJECT && w != 0f) {
                    throw new InvalidInputException(where.apply(e) + ": self loop at node " + (i + b) + " (weight " + w
                            + "); " + rules.selfLoopFix());
                }
                continue;
            }
            if (w == 0f) {
                continue;
            }
            keep[e] = true;
            rowCount[i + 1]++;
            if (mirror) {
                rowCount[j + 1]++;
            }
        }
        for (int i = 0; i < nodes; i++) {
            rowCount[i + 1] += rowCount[i];
        }
        long nnz = rowCount[nodes];
        if (nnz > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("graph has " + nnz + " stored entries; at most 2^31 - 9 are supported");
        }
        long[] offsets = rowCount.clone();
        int[] columns = new int[(int) nnz];
        float[] weights = new float[(int) nnz];
        int[] source = new int[(int) nnz];
        long[] fill = Arrays.copyOf(rowCount, nodes);
        for (int e = 0; e < count; e++) {
            if (!keep[e]) {
                continue;
            }
            int i = rows.get(e);
            int j = cols.get(e);
            int at = (int) fill[i]++;
            columns[at] = j;
            weights[at] = vals.get(e);
            source[at] = e;
            if (mirror) {
                at = (int) fill[j]++;
                columns[at] = i;
                weights[at] = vals.get(e);
                source[at] = e;
            }
        }
        sortRows(nodes, offsets, columns, weights, source);
        int stored = mergeDuplicates(nodes, offsets, columns, weights, source, mirror, rules, where);
        if (stored < columns.length) {
            columns = Arrays.copyOf(columns, stored);
            weights = Arrays.copyOf(weights, stored);
            source = Arrays.copyOf(source, stored);
        }
        if (!mirror) {
            checkSymmetric(nodes, offsets, columns, weights, source, where, rules.base());
        }
        return new CsrGraph(nodes, offsets, columns, weights);
    }

    /**
     * Entries of a row at the same column (adjacent after sorting, in the order they were given):
     * an error, or with {@link Duplicates#SUM} one entry with their sum (in double, rounded to
     * float once), compacting the arrays in place and rewriting the offsets. Returns the number
     * of stored entries left.
     */
    private static int mergeDuplicates(int nodes, long[] offsets, int[] columns, float[] weights, int[] source,
            boolean mirror, EntryRules rules, LongFunction<String> where) {
        int out = 0;
        long start = 0;
        for (int i = 0; i < nodes; i++) {
            int a = (int) start;
            int b = (int) offsets[i + 1];
            start = b;
            offsets[i] = out;
            int e = a;
            while (e < b) {
                int c = columns[e];
                int f = e + 1;
                if (f < b && columns[f] == c) {
                    if (rules.duplicates() == Duplicates.REJECT) {
                        int x = source[e];
                        int y = source[f];
                        String how = x == y ? where.apply(x) : where.apply(Math.min(x, y)) + " and "
                                + where.apply(Math.max(x, y));
                        throw new InvalidInputException("entry (" + (i + rules.base()) + ", " + (c + rules.base()) + ") appears twice (" + how + "); "
                                + rules.duplicateFix());
                    }
                    double sum = weights[e];
                    while (f < b && columns[f] == c) {
                        sum += weights[f++];
                    }
                    if (sum > Float.MAX_VALUE) {
                        throw new InvalidInputException("entry (" + (i + rules.base()) + ", " + (c + rules.base()) + ") is given " + (f - e) + " times ("
                                + where.apply(source[e]) + " first) and the weights sum to " + sum
                                + ", more than float32 holds; weights must be finite: scale them down");
                    }
                    columns[out] = c;
                    weights[out] = (float) sum;
                    source[out++] = source[e];
                    e = f;
                } else {
                    columns[out] = c;
                    weights[out] = weights[e];
                    source[out++] = source[e];
                    e++;
                }
            }
        }
        offsets[nodes] = out;
        return out;
    }

    private static void sortRows(int nodes, long[] offsets, int[] columns, float[] weights, int[] source) {
        long[] keys = null;
        for (int i = 0; i < nodes; i++) {
            int a = (int) offsets[i];
            int b = (int) offsets[i + 1];
            boolean sorted = true;
            for (int e = a + 1; e < b && sorted; e++) {
                sorted = columns[e - 1] <= columns[e];
            }
            if (sorted) {
                continue;
            }
            int len = b - a;
            if (keys == null || keys.length < len) {
                keys = new long[Math.max(len, 16)];
            }
            for (int e = 0; e < len; e++) {
                keys[e] = ((long) columns[a + e] << 32) | e;
            }
            Arrays.sort(keys, 0, len);
            int[] c = Arrays.copyOfRange(columns, a, b);
            float[] w = Arrays.copyOfRange(weights, a, b);
            int[] s = Arrays.copyOfRange(source, a, b);
            for (int e = 0; e < len; e++) {
                int from = (int) (keys[e] & 0xFFFFFFFFL);
                columns[a + e] = c[from];
                weights[a + e] = w[from];
                source[a + e] = s[from];
            }
        }
    }

    // The transpose by counting sort has sorted rows; a symmetric matrix equals it exactly.
    private static void checkSymmetric(int nodes, long[] offsets, int[] columns, float[] weights, int[] source,
            LongFunction<String> where, int base) {
        long[] tOff = new long[nodes + 1];
        for (int c : columns) {
            tOff[c + 1]++;
        }
        for (int i = 0; i < nodes; i++) {
            tOff[i + 1] += tOff[i];
        }
        int[] tCol = new int[columns.length];
        float[] tW = new float[columns.length];
        int[] tSrc = new int[columns.length];
        long[] fill = Arrays.copyOf(tOff, nodes);
        for (int i = 0; i < nodes; i++) {
            for (long e = offsets[i]; e < offsets[i + 1]; e++) {
                int at = (int) fill[columns[(int) e]]++;
                tCol[at] = i;
                tW[at] = weights[(int) e];
                tSrc[at] = source[(int) e];
            }
        }
        for (int i = 0; i < nodes; i++) {
            int a = (int) offsets[i];
            int b = (int) offsets[i + 1];
            int ta = (int) tOff[i];
            int tb = (int) tOff[i + 1];
            int e = a;
            int t = ta;
            while (e < b || t < tb) {
                int c = e < b ? columns[e] : Integer.MAX_VALUE;
                int tc = t < tb ? tCol[t] : Integer.MAX_VALUE;
                if (c == tc && weights[e] == tW[t]) {
                    e++;
                    t++;
                    continue;
                }
                if (c == tc) {
                    throw new InvalidInputException("not symmetric: A[" + (i + base) + "][" + (c + base) + "] = " + weights[e]
                            + " (" + where.apply(source[e]) + ") but A[" + (c + base) + "][" + (i + base) + "] = " + tW[t]
                            + "; store both directions with equal weights");
                }
                if (c < tc) {
                    throw new InvalidInputException("not symmetric: A[" + (i + base) + "][" + (c + base) + "] = " + weights[e]
                            + " (" + where.apply(source[e]) + ") but A[" + (c + base) + "][" + (i + base)
                            + "] is missing; store both directions of every edge (or a symmetric Matrix Market file)");
                }
                throw new InvalidInputException("not symmetric: A[" + (tc + base) + "][" + (i + base) + "] = " + tW[t] + " ("
                        + where.apply(tSrc[t]) + ") but A[" + (i + base) + "][" + (tc + base) + "] is missing; store both directions of every edge (or a symmetric "
                        + "Matrix Market file)");
            }
        }
    }

    /** Number of nodes. */
    public int nodes() {
        return nodes;
    }

    /** Number of undirected edges (each stored twice). */
    public long edges() {
        return offsets[nodes] / 2;
    }

    /** A copy of the row offsets (length nodes + 1). */
    public long[] offsets() {
        return offsets.clone();
    }

    /** A copy of the column indices. */
    public int[] columns() {
        return columns.clone();
    }

    /** A copy of the weights. */
    public float[] weights() {
        return weights.clone();
    }

    /** First stored entry of node i's row. */
    public long rowStart(int node) {
        return offsets[node];
    }

    /** One past the last stored entry of node i's row. */
    public long rowEnd(int node) {
        return offsets[node + 1];
    }

    /** Column (neighbour) of stored entry e. */
    public int column(long entry) {
        return columns[(int) entry];
    }

    /** Weight of stored entry e. */
    public float weight(long entry) {
        return weights[(int) entry];
    }

    /** Weighted degree of a node (sum of its edge weights, in double). */
    public double degree(int node) {
        return degrees[node];
    }

    /** A copy of all degrees. */
    public double[] degrees() {
        return degrees.clone();
    }

    /** Total volume: the sum of all degrees (twice the total edge weight). */
    public double volume() {
        double v = 0.0;
        for (double d : degrees) {
            v += d;
        }
        return v;
    }

    /** Nodes with no edges, ascending. */
    public int[] isolatedNodes() {
        return java.util.stream.IntStream.range(0, nodes).filter(i -> offsets[i + 1] == offsets[i]).toArray();
    }

    /**
     * Per-cluster cut weight: cut[c] sums the weights of edges with exactly one end in cluster c.
     * {@code labels[i]} in [0, clusters), or -1 for a node without edges.
     */
    public double[] cutWeights(int[] labels, int clusters) {
        if (labels.length != nodes) {
            throw new InvalidInputException("labels must cover the " + nodes + " nodes, got " + labels.length);
        }
        double[] cut = new double[clusters];
        for (int i = 0; i < nodes; i++) {
            int li = labels[i];
            if (li < 0 && offsets[i + 1] > offsets[i]) {
                throw new InvalidInputException("node " + i + " has edges but label -1; only isolated nodes may be unassigned");
            }
            for (long e = offsets[i]; e < offsets[i + 1]; e++) {
                if (labels[columns[(int) e]] != li) {
                    cut[li] += weights[(int) e];
                }
            }
        }
        return cut;
    }

    /** Connected components, numbered in order of their smallest node. */
    public Components components() {
        int[] label = new int[nodes];
        Arrays.fill(label, -1);
        int[] queue = new int[nodes];
        int count = 0;
        int[] sizes = new int[Math.max(nodes, 1)];
        for (int s = 0; s < nodes; s++) {
            if (label[s] >= 0) {
                continue;
            }
            int head = 0;
            int tail = 0;
            queue[tail++] = s;
            label[s] = count;
            while (head < tail) {
                int u = queue[head++];
                for (long e = offsets[u]; e < offsets[u + 1]; e++) {
                    int v = columns[(int) e];
                    if (label[v] < 0) {
                        label[v] = count;
                        queue[tail++] = v;
                    }
                }
            }
            sizes[count++] = tail;
        }
        return new Components(count, label, Arrays.copyOf(sizes, count));
    }

    /**
     * A two-colouring if the graph is bipartite: {@code side[i]} says which side node i is on
     * (the smallest node of each component is on side false). Empty if the graph has an odd
     * cycle. Isolated nodes are on side false.
     */
    public Optional<boolean[]> bipartition() {
        byte[] color = new byte[nodes];
        int[] queue = new int[nodes];
        for (int s = 0; s < nodes; s++) {
            if (color[s] != 0) {
                continue;
            }
            int head = 0;
            int tail = 0;
            queue[tail++] = s;
            color[s] = 1;
            while (head < tail) {
                int u = queue[head++];
                for (long e = offsets[u]; e < offsets[u + 1]; e++) {
                    int v = columns[(int) e];
                    if (color[v] == 0) {
                        color[v] = (byte) (3 - color[u]);
                        queue[tail++] = v;
                    } else if (color[v] == color[u]) {
                        return Optional.empty();
                    }
                }
            }
        }
        boolean[] side = new boolean[nodes];
        for (int i = 0; i < nodes; i++) {
            side[i] = color[i] == 2;
        }
        return Optional.of(side);
    }

    /**
     * The subgraph induced by {@code keep} (strictly ascending node indices): node keep[t]
     * becomes node t.
     */
    public CsrGraph inducedSubgraph(int[] keep) {
        int[] map = new int[nodes];
        Arrays.fill(map, -1);
        for (int t = 0; t < keep.length; t++) {
            int v = keep[t];
            if (v < 0 || v >= nodes || (t > 0 && v <= keep[t - 1])) {
                throw new InvalidInputException("keep must be strictly ascending node indices in [0, " + nodes
                        + "); problem at position " + t + " (" + v + ")");
            }
            map[v] = t;
        }
        long[] off = new long[keep.length + 1];
        for (int t = 0; t < keep.length; t++) {
            int u = keep[t];
            long c = 0;
            for (long e = offsets[u]; e < offsets[u + 1]; e++) {
                if (map[columns[(int) e]] >= 0) {
                    c++;
                }
            }
            off[t + 1] = off[t] + c;
        }
        int[] col = new int[(int) off[keep.length]];
        float[] w = new float[col.length];
        int at = 0;
        for (int u : keep) {
            for (long e = offsets[u]; e < offsets[u + 1]; e++) {
                int m = map[columns[(int) e]];
                if (m >= 0) {
                    col[at] = m;
                    w[at++] = weights[(int) e];
                }
            }
        }
        return new CsrGraph(keep.length, off, col, w);
    }

    /** The graph without its isolated nodes (node numbering compacted in order). */
    public CsrGraph withoutIsolatedNodes() {
        int[] keep = java.util.stream.IntStream.range(0, nodes).filter(i -> offsets[i + 1] > offsets[i]).toArray();
        return keep.length == nodes ? this : inducedSubgraph(keep);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CsrGraph g && g.nodes == nodes && Arrays.equals(g.offsets, offsets)
                && Arrays.equals(g.columns, columns) && Arrays.equals(g.weights, weights);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * nodes + Arrays.hashCode(columns)) + Arrays.hashCode(weights);
    }

    @Override
    public String toString() {
        return "CsrGraph[nodes=" + nodes + ", edges=" + edges() + "]";
    }
}
