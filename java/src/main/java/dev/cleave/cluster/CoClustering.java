package dev.cleave.cluster;

import dev.cleave.graph.NetworkGraph;
import dev.cleave.util.FloatMatrix;
import dev.cleave.util.InvalidInputException;
import dev.cleave.util.Rng;
import java.util.Arrays;
import java.util.List;

/**
 * Bipartite spectral co-clustering of one weight matrix (Dhillon 2001), as the enmeshment loss's
 * cluster assignment uses it: A_n = D_r^-1/2 |W| D_c^-1/2; singular vectors 2..l+1
 * (l = ceil(log2 k)) scaled by D_r^-1/2 (rows) and D_c^-1/2 (columns), stacked, one k-means
 * (joint variant). The singular triplets come from the same engine as spectral clustering: W is
 * a two-layer network graph, whose normalized adjacency has eigenvectors (u_i, v_i)/sqrt 2 for
 * the singular values sigma_i of A_n, so the embedding is exactly the random-walk embedding of
 * that graph restricted to eigenvectors 2..l+1.
 *
 * <p>This returns the labels only; the clusterability C of W under them belongs to the
 * {@code enmeshment} op.
 */
public final class CoClustering {
    private CoClustering() {}

    /**
     * Co-clusters W (out x in; not modified).
     *
     * @throws InvalidInputException if W has a non-finite entry, is all zero, or has too few
     *                               non-zero rows/columns for k clusters
     */
    public static CoClusterResult cocluster(FloatMatrix w, CoClusterOptions o) {
        long t0 = System.nanoTime();
        if (w == null || w.rows() == 0 || w.cols() == 0) {
            throw new InvalidInputException("co-clustering needs a non-empty weight matrix");
        }
        int k = o.k();
        int rows = w.rows();
        int cols = w.cols();
        boolean allZero = true;
        for (float v : w.data()) {
            if (v != 0f) {
                allZero = false;
                break;
            }
        }
        if (allZero) { // checked here, so the message is about this matrix and not "the network"
            throw new InvalidInputException("the " + rows + " x " + cols + " weight matrix is all zero: there is nothing to co-cluster");
        }
        NetworkGraph g = NetworkGraph.fromWeights(List.of(w)); // layer 0 = columns, layer 1 = rows
        int[] keptCols = g.keptIndices(0);
        int[] keptRows = g.keptIndices(1);
        int[] zeroRows = SpectralClustering.complement(keptRows, rows);
        int[] zeroCols = SpectralClustering.complement(keptCols, cols);
        int kept = keptRows.length + keptCols.length;
        if (o.variant() == CoClusterVariant.JOINT && k > kept) {
            throw new InvalidInputException("k = " + k + " co-clusters exceeds the " + kept
                    + " non-zero rows and columns of the " + rows + " x " + cols + " matrix; lower k");
        }
        if (o.variant() == CoClusterVariant.SEPARATE && (k > keptRows.length || k > keptCols.length)) {
            throw new InvalidInputException("k = " + k + " exceeds the non-zero rows (" + keptRows.length + ") or columns ("
                    + keptCols.length + ") of the matrix, which the separate variant clusters on their own; lower k");
        }
        int l = o.vectors();
        int[] rowLabels = new int[rows];
        int[] colLabels = new int[cols];
        double[] sigma;
        double[] residuals;
        double inertia = 0.0;
        if (l == 0) { // k = 1: one co-cluster holds everything
            sigma = new double[] {1.0};
            residuals = new double[] {0.0};
        } else {
            EigenOptions eo = new EigenOptions(l + 1, o.tolerance(), o.maxIterations(), 0, o.seed(), o.threads(),
                    o.solver(), o.backend());
            EigenResult e = LaplacianEigensolver.smallest(g, eo).requireConverged();
            sigma = new double[l + 1];
            for (int j = 0; j <= l; j++) {
                sigma[j] = 1.0 - e.eigenvalues()[j];
            }
            residuals = e.residuals();
            double[] full = SpectralClustering.embedding(e, g.degrees());
            int n = g.nodes();
            double[] z = new double[n * l]; // drop eigenvector 1 (the trivial one)
            for (int i = 0; i < n; i++) {
                System.arraycopy(full, i * (l + 1) + 1, z, i * l, l);
            }
            int nc = keptCols.length;
            KMeansOptions ko = new KMeansOptions(k, o.nInit(), KMeansOptions.DEFAULT_MAX_ITERATIONS,
                    KMeansOptions.DEFAULT_TOLERANCE, o.seed(), o.threads(), o.backend());
            if (o.variant() == CoClusterVariant.JOINT) {
                KMeansResult km = KMeans.fit(z, n, l, ko);
                int[] lab = km.labels();
                inertia = km.inertia();
                // canonical: by smallest row, then (clusters without rows) by smallest column
                long[] key = new long[k];
                Arrays.fill(key, Long.MAX_VALUE);
                for (int t = 0; t < keptRows.length; t++) {
                    key[lab[nc + t]] = Math.min(key[lab[nc + t]], keptRows[t]);
                }
                for (int t = 0; t < nc; t++) {
                    key[lab[t]] = Math.min(key[lab[t]], (long) rows + keptCols[t]);
                }
                int[] map = rankOf(key);
                for (int t = 0; t < keptRows.length; t++) {
                    rowLabels[keptRows[t]] = map[lab[nc + t]];
                }
                for (int t = 0; t < nc; t++) {
                    colLabels[keptCols[t]] = map[lab[t]];
                }
            } else {
                double[] zr = Arrays.copyOfRange(z, nc * l, n * l);
                double[] zc = Arrays.copyOfRange(z, 0, nc * l);
                KMeansResult kr = KMeans.fit(zr, keptRows.length, l, ko.withSeed(Rng.subSeed(o.seed(), "cocluster/rows")));
                KMeansResult kc = KMeans.fit(zc, nc, l, ko.withSeed(Rng.subSeed(o.seed(), "cocluster/columns")));
                inertia = kr.inertia() + kc.inertia();
                int[] lr = kr.labels();
                int[] lc = kc.labels();
                for (int t = 0; t < keptRows.length; t++) {
                    rowLabels[keptRows[t]] = lr[t];
                }
                for (int t = 0; t < nc; t++) {
                    colLabels[keptCols[t]] = lc[t];
                }
            }
        }
        for (int t = 0; t < zeroRows.length; t++) {
            rowLabels[zeroRows[t]] = t % k;
        }
        for (int t = 0; t < zeroCols.length; t++) {
            colLabels[zeroCols[t]] = t % k;
        }
        return new CoClusterResult(k, o.variant(), rowLabels, colLabels, sigma, residuals, zeroRows, zeroCols, inertia,
                (System.nanoTime() - t0) / 1e9, o);
    }


    // map[c] = rank of key[c] among the keys (ties impossible: keys are distinct node ids).
    private static int[] rankOf(long[] key) {
        Integer[] idx = new Integer[key.length];
        for (int i = 0; i < key.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Long.compare(key[a], key[b]));
        int[] map = new int[key.length];
        for (int r = 0; r < idx.length; r++) {
            map[idx[r]] = r;
        }
        return map;
    }

}
