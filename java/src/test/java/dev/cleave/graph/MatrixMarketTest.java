package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Matrix Market reading (every supported header), writing, round trips and error messages. */
class MatrixMarketTest {
    static CsrGraph read(String text) {
        return MatrixMarket.read(new StringReader(text), "g.mtx", SelfLoops.REJECT, Duplicates.REJECT);
    }

    static String error(String text) {
        return assertThrows(InvalidInputException.class, () -> read(text)).getMessage();
    }

    @Test
    void readsSymmetricGeneralIntegerAndPattern() {
        CsrGraph sym = read("%%MatrixMarket matrix coordinate real symmetric\n% a comment\n3 3 2\n2 1 0.5\n3 2 1.5e0\n");
        assertEquals(2, sym.edges());
        assertEquals(2.0, sym.degree(1));
        CsrGraph gen = read("%%MatrixMarket matrix coordinate real general\n3 3 4\n1 2 0.5\n2 1 0.5\n2 3 1.5\n3 2 1.5\n");
        assertEquals(sym, gen);
        CsrGraph pat = read("%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 2\n");
        assertEquals(2.0, pat.degree(1));
        CsrGraph in = read("%%matrixmarket MATRIX coordinate integer symmetric\n\n3 3 1\n3 1 7\n");
        assertEquals(7.0, in.degree(0));
    }

    @Test
    void errorsNameTheFileLineAndFix() {
        assertTrue(error("hello\n").contains("g.mtx line 1: not a Matrix Market file"));
        assertTrue(error("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n").contains("'coordinate'"));
        assertTrue(error("%%MatrixMarket matrix coordinate complex general\n").contains("field 'complex'"));
        assertTrue(error("%%MatrixMarket matrix coordinate real skew-symmetric\n").contains("symmetry 'skew-symmetric'"));
        assertTrue(error("%%MatrixMarket matrix coordinate real general\n2 3 1\n1 2 1\n").contains("square"));
        String range = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n4 1 1\n");
        assertTrue(range.contains("g.mtx line 4") && range.contains("1-based"), range);
        String neg = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 1 -1\n");
        assertTrue(neg.contains("g.mtx line 3") && neg.contains("absolute values"), neg);
        String nan = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 1 NaN\n");
        assertTrue(nan.contains("NaN"), nan);
        String loop = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 1\n2 1 1\n");
        assertTrue(loop.contains("line 3: self loop at node 1 (weight 1.0)"), loop);
        String dup = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n1 2 1\n");
        assertTrue(dup.contains("line 3 and g.mtx line 4"), dup);
        String asym = error("%%MatrixMarket matrix coordinate real general\n3 3 1\n2 1 1\n");
        assertTrue(asym.contains("not symmetric") && asym.contains("line 3"), asym);
        assertTrue(error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n").contains("truncated"));
        assertTrue(error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 1 1\n3 1 1\n").contains("more entries"));
        assertTrue(error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 x 1\n").contains("expected 'i j value'"));
        CsrGraph dropped = MatrixMarket.read(new StringReader("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 1\n2 1 1\n"),
                "g.mtx", SelfLoops.DROP, Duplicates.REJECT);
        assertEquals(1, dropped.edges());
    }

    @Test
    void writeThenReadIsTheSameGraph(@TempDir Path dir) throws IOException {
        SplittableRandom r = new SplittableRandom(4);
        int n = 300;
        int m = 2000;
        int[] a = new int[m];
        int[] b = new int[m];
        float[] w = new float[m];
        java.util.Set<Long> seen = new java.util.HashSet<>();
        int c = 0;
        while (c < m) {
            int i = r.nextInt(n);
            int j = r.nextInt(n);
            if (i == j || !seen.add((long) Math.min(i, j) * n + Math.max(i, j))) {
                continue;
            }
            a[c] = i;
            b[c] = j;
            w[c++] = (float) r.nextDouble() * 1e-3f + (c % 7 == 0 ? 12345.678f : 0f);
        }
        CsrGraph g = CsrGraph.fromEdges(n, a, b, w);
        StringWriter sw = new StringWriter();
        MatrixMarket.write(g, sw);
        assertEquals(g, read(sw.toString()), "weights round-trip exactly");
        Path f = dir.resolve("g.mtx.gz");
        MatrixMarket.write(g, f);
        assertEquals(g, MatrixMarket.read(f));
        assertTrue(Files.size(f) > 0);
        InvalidInputException none = assertThrows(InvalidInputException.class, () -> MatrixMarket.read(dir.resolve("nope.mtx")));
        assertTrue(none.getMessage().contains("no such file"));
    }

    static String errorWith(String text, SelfLoops loops, Duplicates dups) {
        return assertThrows(InvalidInputException.class,
                () -> MatrixMarket.read(new StringReader(text), "g.mtx", loops, dups)).getMessage();
    }

    @Test
    void diagonalEntriesAreDroppedOrRefusedNamingTheCliOption(@TempDir Path dir) throws IOException {
        String text = "%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n1 1 1\n2 1 0.5\n2 2 1\n3 3 1\n";
        Path f = dir.resolve("diag.mtx");
        Files.writeString(f, text);
        CsrGraph g = MatrixMarket.read(f);
        assertEquals(1, g.edges());
        assertEquals(0.5, g.degree(0));
        assertEquals(0.0, g.degree(2), "a node whose only entry is its diagonal has no edges");
        assertEquals(g, MatrixMarket.read(f, SelfLoops.DROP, Duplicates.REJECT));
        String loop = errorWith(text, SelfLoops.REJECT, Duplicates.SUM);
        assertTrue(loop.startsWith("g.mtx line 3: self loop at node 1") && loop.contains("--self-loops drop"), loop);
        assertFalse(loop.contains("SelfLoops"), "the CLI cannot reach the Java enum: " + loop);
    }

    @Test
    void repeatedEntriesAreSummedAsScipyDoesOrRefused() {
        // symmetric: (2,1) and (1,2) both stand for the edge {0,1}; SciPy mirrors each and sums
        String sym = "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n2 1 0.5\n1 2 0.25\n3 2 1\n";
        CsrGraph g = MatrixMarket.read(new StringReader(sym), "g.mtx", SelfLoops.DROP, Duplicates.SUM);
        assertEquals(2, g.edges());
        assertEquals(0.75f, g.weight(g.rowStart(0)));
        assertEquals(0.75, g.degree(0));
        assertEquals(1.75, g.degree(1));
        // general: both directions summed separately, then they must agree
        String gen = "%%MatrixMarket matrix coordinate real general\n2 2 4\n1 2 1\n2 1 1.5\n1 2 2\n2 1 1.5\n";
        CsrGraph h = MatrixMarket.read(new StringReader(gen), "g.mtx", SelfLoops.DROP, Duplicates.SUM);
        assertEquals(1, h.edges());
        assertEquals(3.0, h.degree(0));
        String asym = "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 2 1\n1 2 1\n2 1 1\n";
        String a = errorWith(asym, SelfLoops.DROP, Duplicates.SUM);
        assertTrue(a.contains("not symmetric") && a.contains("A[1][2] = 2.0 (g.mtx line 3) but A[2][1] = 1.0"), a);
        String dup = errorWith(sym, SelfLoops.DROP, Duplicates.REJECT);
        assertTrue(dup.contains("appears twice (g.mtx line 3 and g.mtx line 4)") && dup.contains("--duplicates sum")
                && dup.contains("one triangle"), dup);
        assertFalse(dup.contains("Duplicates."), dup);
        String big = errorWith("%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n2 1 3e38\n2 1 3e38\n",
                SelfLoops.DROP, Duplicates.SUM);
        assertTrue(big.contains("g.mtx line 3") && big.contains("weights must be finite"), big);
    }

    @Test
    void nanAndInfinityWeightsSayWeightsMustBeFinite() {
        for (String w : new String[] {"nan", "NaN", "-nan", "inf", "-inf", "+Inf", "Infinity", "-Infinity", "1e39"}) {
            String m = error("%%MatrixMarket matrix coordinate real symmetric\n% python wrote this\n3 3 2\n2 1 1\n3 1 " + w
                    + "\n");
            assertTrue(m.startsWith("g.mtx line 5: weight of (3, 1) is ") && m.contains("weights must be finite"), w + ": " + m);
        }
        String word = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 1 nanx\n");
        assertTrue(word.contains("expected 'i j value'"), word);
    }

    @Test
    void nonRegularFilesAreRefusedWithoutOpeningThem(@TempDir Path dir) throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Path fifo = dir.resolve("pipe.mtx");
            Process p = new ProcessBuilder("mkfifo", fifo.toString()).redirectErrorStream(true).start();
            assumeTrue(p.waitFor() == 0 && Files.exists(fifo), "mkfifo is available");
            for (Path f : new Path[] {fifo, dir, Path.of("/dev/zero"), Path.of("/dev/null")}) {
                if (!Files.exists(f)) {
                    continue;
                }
                String m = assertThrows(InvalidInputException.class, () -> MatrixMarket.read(f)).getMessage();
                assertTrue(m.equals(f + ": is not a regular file (expected a Matrix Market graph (.mtx))"), m);
            }
        });
    }

    @Test
    void sizeLinesBeyondTheHeapAreRefusedWithTheBytesNeeded() {
        String m = error("%%MatrixMarket matrix coordinate real symmetric\n2000000000 2000000000 2000000000\n1 1 1\n");
        long need = MatrixMarket.bytesToRead(2_000_000_000L, 2_000_000_000L, true);
        assertTrue(m.startsWith("g.mtx line 2: 2000000000 nodes and 2000000000 entries need about " + need + " bytes")
                && m.contains("JAVA_OPTS=-Xmx"), m);
        String range = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2147483648\n");
        assertTrue(range.contains("out of range"), range);
        String wide = error("%%MatrixMarket matrix coordinate real general\n9223372036854775807 9223372036854775807 1\n");
        assertTrue(wide.contains("size line must be"), wide);
        // within the heap: nothing is allocated for entries the file does not hold
        String lie = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 20000000\n2 1 1\n");
        assertTrue(lie.contains("announced 20000000 entries but the file has 1"), lie);
    }

    @Test
    void endlessLinesStopAtTheCap() {
        for (char c : new char[] {'\0', '7', '%'}) {
            String prefix = c == '%' ? "%%MatrixMarket matrix coordinate real symmetric\n" : "";
            Reader in = new Reader() {
                private int served;

                @Override
                public int read(char[] buf, int off, int len) {
                    if (served < prefix.length()) {
                        int m = Math.min(len, prefix.length() - served);
                        prefix.getChars(served, served + m, buf, off);
                        served += m;
                        return m;
                    }
                    java.util.Arrays.fill(buf, off, off + len, c);
                    return len;
                }

                @Override
                public void close() {}
            };
            String m = assertThrows(InvalidInputException.class,
                    () -> MatrixMarket.read(in, "zero", SelfLoops.DROP, Duplicates.SUM)).getMessage();
            String line = c == '%' ? "2" : "1";
            assertEquals("zero line " + line + ": longer than " + MatrixMarket.MAX_LINE + " characters; a Matrix Market "
                    + "file is text with one entry per line (is this the right file?)", m);
        }
    }

    @Test
    void lineEndingsAndCommentsAnywhere() {
        CsrGraph crlf = read("%%MatrixMarket matrix coordinate real symmetric\r\n%c\r\n3 3 2\r\n2 1 0.5\r\n\r\n% x\r\n3 2 1\r\n");
        CsrGraph cr = read("%%MatrixMarket matrix coordinate real symmetric\r3 3 2\r2 1 0.5\r3 2 1");
        assertEquals(crlf, cr);
        assertEquals(2, cr.edges());
        String m = error("%%MatrixMarket matrix coordinate real symmetric\r\n3 3 1\r\n\r\n4 1 1\r\n");
        assertTrue(m.startsWith("g.mtx line 4:"), m);
    }
}
