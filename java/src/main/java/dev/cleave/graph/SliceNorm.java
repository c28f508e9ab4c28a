package dev.cleave.graph;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.cleave.util.InvalidInputException;
import java.util.Locale;

/**
 * How one edge of a CNN's unit graph weighs a kernel slice K[j, i, :, :] (kh x kw), or the
 * block of a dense layer's weights that reads channel i after flatten (height x width):
 * {@link #L1} the entrywise sum of |K| (the default), {@link #MAX_COL_SUM} the induced 1-norm,
 * max over columns (the kw axis) of the column's sum of |K| over rows (the kh axis) — what F21's
 * code computed — and {@link #L2} the Frobenius norm sqrt(sum K^2). On a 1 x 1 slice (dense to
 * dense) all three are |w|.
 */
public enum SliceNorm {
    @JsonProperty("l1") L1,
    @JsonProperty("max-col-sum") MAX_COL_SUM,
    @JsonProperty("l2") L2;

    /**
     * The norm of the rows x cols slice of {@code w} starting at {@code offset} whose row r, column
     * c is {@code w[offset + r * rowStride + c]}, in double.
     */
    double of(float[] w, int offset, int rows, int cols, int rowStride) {
        switch (this) {
            case L1: {
                double s = 0.0;
                for (int r = 0; r < rows; r++) {
                    int at = offset + r * rowStride;
                    for (int c = 0; c < cols; c++) {
                        s += Math.abs(w[at + c]);
                    }
                }
                return s;
            }
            case L2: {
                double s = 0.0;
                for (int r = 0; r < rows; r++) {
                    int at = offset + r * rowStride;
                    for (int c = 0; c < cols; c++) {
                        double v = w[at + c];
                        s += v * v;
                    }
                }
                return Math.sqrt(s);
            }
            default: {
                double best = 0.0;
                for (int c = 0; c < cols; c++) {
                    double s = 0.0;
                    for (int r = 0; r < rows; r++) {
                        s += Math.abs(w[offset + r * rowStride + c]);
                    }
                    best = Math.max(best, s);
                }
                return best;
            }
        }
    }

    /** Parses "l1", "max-col-sum" (also "max_col_sum") or "l2", any case. */
    public static SliceNorm parse(String s) {
        if (s != null) {
            String key = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (SliceNorm n : values()) {
                if (n.name().equals(key)) {
                    return n;
                }
            }
        }
        throw new InvalidInputException("slice norm must be one of l1, max-col-sum, l2, got "
                + (s == null ? "nothing" : "'" + s + "'"));
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
