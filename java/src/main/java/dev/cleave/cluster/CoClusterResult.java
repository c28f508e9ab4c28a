package dev.cleave.cluster;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.Arrays;

/**
 * Row and column clusters of one weight matrix W (out x in): co-cluster c is the rows with
 * {@code rowLabels[i] == c} and the columns with {@code columnLabels[j] == c}. Every row and
 * column is labelled, in [0, k): rows and columns that are entirely zero (no weight to go by)
 * are dealt round-robin (the t-th zero row gets label t mod k; columns likewise). With the
 * joint variant labels are canonical: clusters numbered by their smallest row (clusters with no
 * row after, by their smallest column).
 *
 * @param k              co-clusters
 * @param variant        joint or separate
 * @param rowLabels      label of each row (output unit), length W.rows
 * @param columnLabels   label of each column (input unit), length W.cols
 * @param singularValues sigma_1..sigma_{l+1} of D_r^-1/2 |W| D_c^-1/2 (sigma_1 = 1)
 * @param residuals      eigenpair residuals of the solve (relative to ||N|| = 1)
 * @param zeroRows       rows dealt round-robin (all-zero)
 * @param zeroColumns    columns dealt round-robin (all-zero)
 * @param inertia        k-means inertia (the sum of both for the separate variant)
 * @param seconds        wall time
 * @param options        the options it ran with
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CoClusterResult(int k, CoClusterVariant variant, int[] rowLabels, int[] columnLabels,
        double[] singularValues, double[] residuals, int[] zeroRows, int[] zeroColumns, double inertia, double seconds,
        CoClusterOptions options) {
    public CoClusterResult {
        rowLabels = rowLabels.clone();
        columnLabels = columnLabels.clone();
        singularValues = singularValues.clone();
        residuals = residuals.clone();
        zeroRows = zeroRows.clone();
        zeroColumns = zeroColumns.clone();
    }

    @Override
    public int[] rowLabels() {
        return rowLabels.clone();
    }

    @Override
    public int[] columnLabels() {
        return columnLabels.clone();
    }

    @Override
    public double[] singularValues() {
        return singularValues.clone();
    }

    @Override
    public double[] residuals() {
        return residuals.clone();
    }

    @Override
    public int[] zeroRows() {
        return zeroRows.clone();
    }

    @Override
    public int[] zeroColumns() {
        return zeroColumns.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CoClusterResult r && r.k == k && r.variant == variant && Arrays.equals(r.rowLabels, rowLabels)
                && Arrays.equals(r.columnLabels, columnLabels) && Arrays.equals(r.singularValues, singularValues)
                && Arrays.equals(r.residuals, residuals) && Arrays.equals(r.zeroRows, zeroRows)
                && Arrays.equals(r.zeroColumns, zeroColumns) && Double.compare(r.inertia, inertia) == 0
                && Double.compare(r.seconds, seconds) == 0 && r.options.equals(options);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(rowLabels) * 31 + Arrays.hashCode(columnLabels);
    }

    @Override
    public String toString() {
        return "CoClusterResult[k=" + k + ", " + variant + ", rows=" + rowLabels.length + ", columns=" + columnLabels.length
                + ", singularValues=" + Arrays.toString(singularValues) + "]";
    }
}
