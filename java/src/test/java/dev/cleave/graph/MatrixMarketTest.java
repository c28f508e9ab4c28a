package dev.cleave.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Matrix Market reading (every supported header), writing, round trips and error messages. */
class MatrixMarketTest {
    static CsrGraph read(String text) {
        return MatrixMarket.read(new StringReader(text), "g.mtx", SelfLoops.REJECT);
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
        assertTrue(loop.contains("line 3: self loop at node 0"), loop);
        String dup = error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n1 2 1\n");
        assertTrue(dup.contains("line 3 and g.mtx line 4"), dup);
        String asym = error("%%MatrixMarket matrix coordinate real general\n3 3 1\n2 1 1\n");
        assertTrue(asym.contains("not symmetric") && asym.contains("line 3"), asym);
        assertTrue(error("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n2 1 1\n").contains("truncated"));
        assertTrue(error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 1 1\n3 1 1\n").contains("more entries"));
        assertTrue(error("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n2 x 1\n").contains("expected 'i j value'"));
        CsrGraph dropped = MatrixMarket.read(new StringReader("%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 1\n2 1 1\n"),
                "g.mtx", SelfLoops.DROP);
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
}
