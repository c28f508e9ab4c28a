package dev.cleave.graph;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Matrix Market files written the way {@code scipy.io.mmwrite} writes a dense symmetric
 * affinity (scikit-learn's {@code rbf_kernel}): header {@code coordinate real symmetric}, an
 * empty comment, the lower triangle with the diagonal (1s), weights in {@code %.16e}.
 */
public final class ScipyStyleFiles {
    private ScipyStyleFiles() {}

    /**
     * Two blobs in the plane, points uniform in discs of radius 1.5 around (0, 0) and (8, 0) (so
     * the blobs are 5 apart and which blob a point is in is not in doubt), each point's blob
     * chosen by coin flip; writes exp(-gamma |x - y|^2) for every pair and returns which blob
     * each point is in (0 or 1; point 0 is in blob 0).
     */
    public static int[] rbfTwoBlobs(Path file, int n, double gamma, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        double[] y = new double[n];
        int[] blob = new int[n];
        for (int i = 0; i < n; i++) {
            blob[i] = i == 0 ? 0 : r.nextInt(2);
            double radius = 1.5 * Math.sqrt(r.nextDouble());
            double angle = 2.0 * Math.PI * r.nextDouble();
            x[i] = 8.0 * blob[i] + radius * Math.cos(angle);
            y[i] = radius * Math.sin(angle);
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.US_ASCII)) {
            w.write("%%MatrixMarket matrix coordinate real symmetric\n%\n");
            w.write(n + " " + n + " " + ((long) n * (n + 1) / 2) + "\n");
            for (int j = 0; j < n; j++) {
                for (int i = j; i < n; i++) {
                    double d2 = (x[i] - x[j]) * (x[i] - x[j]) + (y[i] - y[j]) * (y[i] - y[j]);
                    w.write((i + 1) + " " + (j + 1) + " " + String.format(Locale.ROOT, "%.16e", Math.exp(-gamma * d2)) + "\n");
                }
            }
        }
        return blob;
    }
}
