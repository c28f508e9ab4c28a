package dev.cleave.modular;

import dev.cleave.nativ.CpuKernels;
import dev.cleave.nativ.ModularKernels;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;

/**
 * The enmeshment loss op (G24, G25) for one weight W and a fixed cluster assignment: row
 * labels and column labels in [0, k), cluster {@code c} pairing the rows labelled {@code c}
 * with the columns labelled {@code c}. W is rows x cols x slice, row-major: a dense layer's
 * out x in matrix (slice 1), or a conv layer's kernel (out, in, kh, kw) with rows = out
 * channels, cols = in channels and slice = kh * kw (held as the out x in*kh*kw tensor). With
 * {@code S = sum W^2}:
 *
 * <pre>
 *   C(W)        = sum over i, j, s with rowLabel[i] == colLabel[j] of W_ijs^2 / S   (in [0, 1])
 *   dC/dW_ijs   = (2 W_ijs / S) (1[rowLabel[i] == colLabel[j]] - C)
 * </pre>
 *
 * For a conv kernel C is the share of the squared kernel mass sum ||K[j, i, :, :]||^2 inside
 * the k diagonal channel blocks; for slice 1 it is G24's C.
 *
 * C is 1 for a block-diagonal W and about 1/k for random W under balanced clusters. The
 * training loss {@code CE - lambda * mean C} takes {@code scale = -lambda / layers}. An all-zero
 * W (S = 0) has C = 0 and a zero gradient, so training never stops on it.
 *
 * <p>The labels are validated once and held off-heap; {@link #forward(FloatPointer)} and
 * {@link #forwardBackward(FloatPointer, float, FloatPointer)} take W and its gradient buffer
 * as off-heap pointers kept across training steps and run the native kernel
 * ({@code cleave_enmeshment}: two passes over W). The {@link FloatMatrix} methods copy and are
 * for tests and occasional use; {@link #reference} is the plain-Java double-precision
 * reference. Instances are thread-safe; {@link #close()} frees the native labels.
 */
public final class Enmeshment implements AutoCloseable {
    /** Largest supported number of clusters. */
    public static final int MAX_K = ModularKernels.ENMESHMENT_MAX_K;

    private final int rows;
    private final int cols;
    private final int slice;
    private final int k;
    private final int[] rowLabels;
    private final int[] colLabels;
    private IntPointer nativeRowLabels;
    private IntPointer nativeColLabels;
    private DoublePointer nativeC;

    /**
     * An op for rows x cols matrices with the given labels (copied), each in [0, k).
     *
     * @throws InvalidInputException if a shape, k or a label is out of range
     */
    public Enmeshment(int rows, int cols, int k, int[] rowLabels, int[] colLabels) {
        this(rows, cols, 1, k, rowLabels, colLabels);
    }

    /**
     * An op for rows x cols x slice weights (a conv kernel (out, in, kh, kw): rows = out,
     * cols = in, slice = kh * kw) with the given channel labels (copied), each in [0, k).
     *
     * @throws InvalidInputException if a shape, slice, k or a label is out of range
     */
    public Enmeshment(int rows, int cols, int slice, int k, int[] rowLabels, int[] colLabels) {
        validate(rows, cols, slice, k, rowLabels, colLabels);
        this.rows = rows;
        this.cols = cols;
        this.slice = slice;
        this.k = k;
        this.rowLabels = rowLabels.clone();
        this.colLabels = colLabels.clone();
        this.nativeRowLabels = new IntPointer(Math.max(rows, 1)).put(this.rowLabels);
        this.nativeColLabels = new IntPointer(Math.max(cols, 1)).put(this.colLabels);
        this.nativeC = new DoublePointer(1);
    }

    /** An op whose rows and columns are each split by {@link BalancedPartition} into k clusters. */
    public static Enmeshment balanced(int rows, int cols, int k) {
        return balanced(rows, cols, 1, k);
    }

    /** An op on rows x cols x slice weights whose rows and columns are each split by {@link BalancedPartition}. */
    public static Enmeshment balanced(int rows, int cols, int slice, int k) {
        return new Enmeshment(rows, cols, slice, k, BalancedPartition.labels(rows, k), BalancedPartition.labels(cols, k));
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int k() {
        return k;
    }

    /** Elements per (row, column) pair: kh * kw for a conv kernel, 1 for a matrix. */
    public int slice() {
        return slice;
    }

    /** Elements per row of W: cols * slice (the column count of the tensor holding W). */
    public long width() {
        return (long) cols * slice;
    }

    /** A copy of the row labels. */
    public int[] rowLabels() {
        return rowLabels.clone();
    }

    /** A copy of the column labels. */
    public int[] colLabels() {
        return colLabels.clone();
    }

    /** C of the rows x cols x slice weight at {@code w} (native, one pass over W). */
    public double forward(FloatPointer w) {
        requireBuffer(w, "w");
        return run(w, 0.0f, null);
    }

    /**
     * C of the weight at {@code w}, and ADDS {@code scale * dC/dW} into {@code grad} (rows x
     * cols x slice, not overlapping {@code w}): native, two passes over W.
     *
     * @throws dev.cleave.nativ.NativeNumericException if W holds a NaN or infinite value (grad is
     *     then untouched)
     */
    public double forwardBackward(FloatPointer w, float scale, FloatPointer grad) {
        requireBuffer(w, "w");
        requireBuffer(grad, "grad");
        requireFinite(scale);
        long bytes = rows * width() * Float.BYTES;
        long wStart = w.address() + w.position() * Float.BYTES;
        long gStart = grad.address() + grad.position() * Float.BYTES;
        if (bytes > 0 && wStart < gStart + bytes && gStart < wStart + bytes) {
            throw new InvalidInputException("enmeshment: grad must not overlap w");
        }
        return run(w, scale, grad);
    }

    /** C of {@code w} (copied off-heap; for tests and occasional use). */
    public double forward(FloatMatrix w) {
        requireMatrix(w);
        try (FloatPointer pw = new FloatPointer(w.data().length)) {
            pw.put(w.data());
            return forward(pw);
        }
    }

    /** C of {@code w} and the gradient dC/dW (a new matrix; for tests and occasional use). */
    public Result forwardBackward(FloatMatrix w) {
        requireMatrix(w);
        int n = w.data().length;
        try (FloatPointer pw = new FloatPointer(n); FloatPointer pg = new FloatPointer(n)) {
            pw.put(w.data());
            pg.zero();
            double c = forwardBackward(pw, 1.0f, pg);
            float[] grad = new float[n];
            pg.get(grad);
            return new Result(c, new FloatMatrix(rows, cols * slice, grad));
        }
    }

    /** C and its gradient dC/dW. */
    public record Result(double c, FloatMatrix gradient) {}

    /** Frees the native labels; the op cannot be used afterwards. Idempotent. */
    @Override
    public synchronized void close() {
        if (nativeC != null) {
            nativeRowLabels.close();
            nativeColLabels.close();
            nativeC.close();
            nativeRowLabels = null;
            nativeColLabels = null;
            nativeC = null;
        }
    }

    /**
     * The plain-Java double-precision reference of the op: returns C of {@code w} (rows x cols,
     * row-major) and, unless {@code grad} is null, ADDS {@code scale * dC/dW} into it. C = 0
     * and no gradient when W is all zero.
     *
     * @throws InvalidInputException if a shape, k, a label or a value is invalid
     */
    public static double reference(double[] w, int rows, int cols, int[] rowLabels, int[] colLabels, int k,
            double scale, double[] grad) {
        return reference(w, rows, cols, 1, rowLabels, colLabels, k, scale, grad);
    }

    /**
     * The reference on rows x cols x slice weights (element (i, j, s) at (i * cols + j) * slice
     * + s; a conv kernel (out, in, kh, kw) with slice kh * kw).
     *
     * @throws InvalidInputException if a shape, slice, k, a label or a value is invalid
     */
    public static double reference(double[] w, int rows, int cols, int slice, int[] rowLabels, int[] colLabels, int k,
            double scale, double[] grad) {
        validate(rows, cols, slice, k, rowLabels, colLabels);
        long n = (long) rows * cols * slice;
        if (w == null || w.length != n || (grad != null && grad.length != n)) {
            throw new InvalidInputException("enmeshment: w and grad must hold rows * cols" + (slice > 1 ? " * slice" : "")
                    + " = " + n + " values");
        }
        requireFinite(scale);
        double s = 0.0;
        double in = 0.0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                boolean inBlock = rowLabels[i] == colLabels[j];
                for (int e = (i * cols + j) * slice, end = e + slice; e < end; e++) {
                    double v = w[e];
                    if (!Double.isFinite(v)) {
                        throw new InvalidInputException("enmeshment: w[" + i + "][" + j + "]" + (slice > 1 ? "[" + (e % slice)
                                + "]" : "") + " is not finite: " + v);
                    }
                    s += v * v;
                    in += inBlock ? v * v : 0.0;
                }
            }
        }
        if (s == 0.0) {
            return 0.0;
        }
        double c = in / s;
        if (grad != null) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double inBlock = rowLabels[i] == colLabels[j] ? 1.0 : 0.0;
                    for (int e = (i * cols + j) * slice, end = e + slice; e < end; e++) {
                        grad[e] += scale * 2.0 * w[e] / s * (inBlock - c);
                    }
                }
            }
        }
        return c;
    }

    private synchronized double run(FloatPointer w, float scale, FloatPointer grad) {
        if (nativeC == null) {
            throw new IllegalStateException("enmeshment: this op was closed");
        }
        CpuKernels.check(ModularKernels.cleave_enmeshment(w, nativeRowLabels, nativeColLabels, rows, cols, slice, k,
                scale, grad, nativeC));
        return nativeC.get();
    }

    private static void validate(int rows, int cols, int slice, int k, int[] rowLabels, int[] colLabels) {
        if (rows < 0 || cols < 0) {
            throw new InvalidInputException("enmeshment: rows and cols must be >= 0, got " + rows + " x " + cols);
        }
        if (slice < 1) {
            throw new InvalidInputException("enmeshment: slice must be >= 1 (kh * kw for a conv kernel, 1 for a matrix), got "
                    + slice);
        }
        if ((long) rows * cols * slice > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("enmeshment: rows * cols * slice = " + (long) rows * cols * slice
                    + " exceeds 2^31 - 9 elements");
        }
        if (k < 1 || k > MAX_K) {
            throw new InvalidInputException("enmeshment: k must be in [1, " + MAX_K + "], got " + k);
        }
        checkLabels(rowLabels, rows, k, "row");
        checkLabels(colLabels, cols, k, "column");
    }

    private static void checkLabels(int[] labels, int n, int k, String what) {
        if (labels == null || labels.length != n) {
            throw new InvalidInputException("enmeshment: need " + n + " " + what + " labels, got "
                    + (labels == null ? "null" : String.valueOf(labels.length)));
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new InvalidInputException("enmeshment: " + what + " label " + labels[i] + " at index " + i
                        + " is outside [0, " + k + ")");
            }
        }
    }

    private void requireBuffer(FloatPointer p, String name) {
        long n = rows * width();
        if (p == null || (n > 0 && p.isNull())) {
            throw new InvalidInputException("enmeshment: " + name + " must not be null");
        }
        long available = p.limit() - p.position();
        if (p.capacity() > 0 && available < n) {
            throw new InvalidInputException("enmeshment: " + name + " holds " + available + " floats past its position,"
                    + " need rows * cols" + (slice > 1 ? " * slice" : "") + " = " + n);
        }
    }

    private void requireMatrix(FloatMatrix w) {
        if (w == null || w.rows() != rows || w.cols() != width()) {
            throw new InvalidInputException("enmeshment: w must be " + rows + " x " + width() + ", got "
                    + (w == null ? "null" : w.rows() + " x " + w.cols()));
        }
        float[] d = w.data();
        for (int i = 0; i < d.length; i++) {
            if (!Float.isFinite(d[i])) {
                throw new InvalidInputException("enmeshment: w[" + (i / width()) + "][" + (i % width()) + "] is not finite: "
                        + d[i]);
            }
        }
    }

    private static void requireFinite(double scale) {
        if (!Double.isFinite(scale)) {
            throw new InvalidInputException("enmeshment: scale must be finite, got " + scale);
        }
    }
}
