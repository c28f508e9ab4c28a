package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cleave.util.InvalidInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random mutations of good Matrix Market files (byte flips, truncations, inserted and
 * deleted lines, huge and negative numbers, NaN and infinities, bad headers and size lines,
 * gzip damage): every outcome is a valid graph or an {@link InvalidInputException}, never
 * another exception, and the whole run stays within a generous time bound.
 */
class MatrixMarketFuzzTest {
    static final int INPUTS = 10000;
    static final int GZIPPED = 500;

    static final String[] LINES = {"1 1 1", "0 0 0", "-1 2 3", "2 -1 1", "% a comment", "", "   ", "2 1",
        "2 1 1 1", "99999999999999999999 1 1", "1 99999999999999999 1", "2 1 nan", "2 1 -inf", "2 1 Infinity",
        "2 1 1e39", "2 1 -0", "2 1 0x1p3", "2 1 1f", "2 1 1e-46", "2 1 -1e-3", "2 1 3.4028235e38",
        "%%MatrixMarket matrix coordinate real general", "1\t2\t0.5", "2 1 .5e", "\u0000", "2 1 1\u00e9"};
    static final String[] HEADERS = {"%%MatrixMarket matrix coordinate complex general",
        "%%MatrixMarket matrix array real general", "%%MatrixMarket", "%%MatrixMarket matrix coordinate real symmetric x",
        "%%matrixmarket tensor coordinate real symmetric", "", "%MatrixMarket matrix coordinate real general",
        "%%MatrixMarket matrix coordinate pattern general", "%%MatrixMarket matrix coordinate integer symmetric",
        "%%MatrixMarket matrix coordinate real skew-symmetric", "%%MatrixMarket matrix coordinate real hermitian"};
    static final String[] SIZES = {"2000000000 2000000000 2000000000", "2147483647 2147483647 1", "5 5 2147483640",
        "0 0 0", "1 1 0", "9223372036854775807 9223372036854775807 1", "200000000 200000000 3", "3 3", "3 3 3 3",
        "-3 -3 2", "4 5 2", "1e3 1e3 2", "30 30 1000000"};
    static final String[] NUMBERS = {"0", "-1", "-0", "4294967297", "2147483648", "99999999999999999999999", "nan",
        "inf", "-inf", "1e39", "1e-45", "3.4e38", "007", "1.5", "+2"};

    /** Good files: symmetric with a diagonal, general, pattern, integer, comments, CRLF, repeats. */
    static List<String> seeds() throws IOException {
        List<String> s = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(1);
        int n = 30;
        int m = 60;
        int[] a = new int[m];
        int[] b = new int[m];
        float[] w = new float[m];
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (int c = 0; c < m;) {
            int i = r.nextInt(n);
            int j = r.nextInt(n);
            if (i != j && seen.add((long) Math.min(i, j) * n + Math.max(i, j))) {
                a[c] = i;
                b[c] = j;
                w[c++] = (float) r.nextDouble(0.01, 10);
            }
        }
        StringWriter sw = new StringWriter();
        MatrixMarket.write(CsrGraph.fromEdges(n, a, b, w), sw);
        s.add(sw.toString());
        StringBuilder gen = new StringBuilder("%%MatrixMarket matrix coordinate real general\n% both directions\n");
        gen.append(n).append(' ').append(n).append(' ').append(2 * m).append('\n');
        for (int e = 0; e < m; e++) {
            gen.append(a[e] + 1).append(' ').append(b[e] + 1).append(' ').append(w[e]).append('\n');
            gen.append(b[e] + 1).append(' ').append(a[e] + 1).append(' ').append(w[e]).append('\n');
        }
        s.add(gen.toString());
        s.add("%%MatrixMarket matrix coordinate pattern symmetric\n6 6 7\n2 1\n3 1\n3 2\n5 4\n6 4\n6 5\n4 3\n");
        s.add("%%MatrixMarket matrix coordinate integer symmetric\r\n%\r\n4 4 5\r\n1 1 3\r\n2 1 2\r\n3 2 7\r\n4 3 1\r\n4 3 1\r\n");
        s.add("%%MatrixMarket matrix coordinate real symmetric\n%\n4 4 10\n1 1 1.0000000000000000e+00\n"
                + "2 1 8.8249690258459546e-01\n3 1 1.0e-08\n4 1 0\n2 2 1\n3 2 0.5\n4 2 2.5e-1\n3 3 1\n4 3 0.75\n4 4 1\n");
        return s;
    }

    @Test
    void mutatedFilesGiveAGraphOrAnInvalidInputException(@TempDir Path dir) throws Exception {
        List<String> seeds = seeds();
        for (String s : seeds) {
            CsrGraph g = read(s.getBytes(StandardCharsets.ISO_8859_1));
            assertTrue(g.edges() > 0, "the seeds are good files");
        }
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            SplittableRandom r = new SplittableRandom(20261207);
            for (int t = 0; t < INPUTS; t++) {
                byte[] input = mutate(seeds.get(r.nextInt(seeds.size())), r);
                outcomes[check(input, () -> read(input), t)]++;
            }
            for (int t = 0; t < GZIPPED; t++) {
                Path f = dir.resolve("g" + t + ".mtx.gz");
                Files.write(f, gzipMutated(mutate(seeds.get(r.nextInt(seeds.size())), r), r));
                outcomes[check(Files.readAllBytes(f), () -> MatrixMarket.read(f), t)]++;
            }
        });
        assertEquals(INPUTS + GZIPPED, outcomes[0] + outcomes[1]);
        // the mutations reach both outcomes: neither everything rejected nor everything read
        assertTrue(outcomes[0] > INPUTS / 20 && outcomes[1] > INPUTS / 2, "graphs " + outcomes[0] + ", errors " + outcomes[1]);
    }

    interface Read {
        CsrGraph get() throws IOException;
    }

    /** 0: a valid graph was read; 1: InvalidInputException; anything else fails the test. */
    static int check(byte[] input, Read read, int t) {
        try {
            CsrGraph g = read.get();
            // valid: rebuilt from its own arrays by the validating builder, it is the same graph
            assertEquals(g, CsrGraph.of(g.nodes(), g.offsets(), g.columns(), g.weights()), "input " + t);
            for (float w : g.weights()) {
                assertTrue(Float.isFinite(w) && w > 0f, "input " + t + ": weight " + w);
            }
            return 0;
        } catch (InvalidInputException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank() && e.getMessage().length() < 2000,
                    "input " + t + ": a one-line message, got " + e.getMessage());
            return 1;
        } catch (Throwable e) {
            String text = new String(input, StandardCharsets.ISO_8859_1);
            fail("input " + t + " threw " + e + " on:\n" + text.substring(0, Math.min(text.length(), 600)), e);
            return -1;
        }
    }

    static CsrGraph read(byte[] input) {
        return MatrixMarket.read(new InputStreamReader(new ByteArrayInputStream(input), StandardCharsets.US_ASCII),
                "fuzz.mtx", SelfLoops.DROP, Duplicates.SUM);
    }

    static byte[] mutate(String seed, SplittableRandom r) {
        String text = seed;
        int rounds = 1 + r.nextInt(3);
        for (int k = 0; k < rounds; k++) {
            text = mutateOnce(text, r);
        }
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String mutateOnce(String text, SplittableRandom r) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        switch (r.nextInt(9)) {
            case 0: { // flip bytes
                char[] c = text.toCharArray();
                int flips = 1 + r.nextInt(4);
                for (int f = 0; f < flips && c.length > 0; f++) {
                    int at = r.nextInt(c.length);
                    c[at] = r.nextBoolean() ? (char) (c[at] ^ (1 << r.nextInt(8))) : (char) r.nextInt(256);
                }
                return new String(c);
            }
            case 1: // truncate
                return text.substring(0, r.nextInt(text.length() + 1));
            case 2: // insert a line
                lines.add(r.nextInt(lines.size() + 1), LINES[r.nextInt(LINES.length)]);
                return String.join("\n", lines);
            case 3: // delete a line
                lines.remove(r.nextInt(lines.size()));
                return String.join("\n", lines);
            case 4: // replace the header
                lines.set(0, HEADERS[r.nextInt(HEADERS.length)]);
                return String.join("\n", lines);
            case 5: { // replace the size line
                int at = sizeLine(lines);
                lines.set(at, SIZES[r.nextInt(SIZES.length)]);
                return String.join("\n", lines);
            }
            case 6: { // replace one number of an entry line
                int at = sizeLine(lines) + 1 + r.nextInt(Math.max(1, lines.size() - sizeLine(lines) - 1));
                if (at < lines.size()) {
                    String[] words = lines.get(at).trim().split("\\s+");
                    words[r.nextInt(words.length)] = NUMBERS[r.nextInt(NUMBERS.length)];
                    lines.set(at, String.join(" ", words));
                }
                return String.join("\n", lines);
            }
            case 7: { // duplicate an entry line (a repeated entry, or one too many)
                int at = r.nextInt(lines.size());
                lines.add(at, lines.get(at));
                return String.join("\n", lines);
            }
            default: { // swap two lines
                int x = r.nextInt(lines.size());
                int y = r.nextInt(lines.size());
                String l = lines.get(x);
                lines.set(x, lines.get(y));
                lines.set(y, l);
                return String.join("\n", lines);
            }
        }
    }

    static int sizeLine(List<String> lines) {
        for (int i = 1; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("%") && !lines.get(i).isBlank()) {
                return i;
            }
        }
        return Math.min(1, lines.size() - 1);
    }

    static byte[] gzipMutated(byte[] plain, SplittableRandom r) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo)) {
            gz.write(plain);
        }
        byte[] z = bo.toByteArray();
        switch (r.nextInt(3)) {
            case 0:
                return z;
            case 1:
                return java.util.Arrays.copyOf(z, r.nextInt(z.length + 1));
            default:
                z[r.nextInt(z.length)] ^= (byte) (1 << r.nextInt(8));
                return z;
        }
    }
}
