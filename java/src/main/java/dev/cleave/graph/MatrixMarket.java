package dev.cleave.graph;

import dev.cleave.util.InvalidInputException;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Reads and writes graphs in the Matrix Market exchange format (the format of SuiteSparse and
 * of {@code scipy.io.mmread}/{@code mmwrite}).
 *
 * <p>Read: {@code coordinate} matrices with field {@code real}, {@code integer} or
 * {@code pattern} (every weight 1) and symmetry {@code general} (both directions must be
 * present and equal) or {@code symmetric} (one triangle; each entry stands for both
 * directions). The matrix must be square. Weights are stored as float32. Files ending in
 * {@code .gz} are decompressed. Errors name the file and line and say how to fix the input.
 *
 * <p>Write: {@code coordinate real symmetric}, the lower triangle, 1-based, each weight in the
 * shortest decimal that reads back to the same float.
 */
public final class MatrixMarket {
    private MatrixMarket() {}

    /** Reads a graph; self loops are an error (see {@link #read(Path, SelfLoops)}). */
    public static CsrGraph read(Path file) {
        return read(file, SelfLoops.REJECT);
    }

    /** Reads a graph with the given policy for diagonal entries. */
    public static CsrGraph read(Path file, SelfLoops selfLoops) {
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(new InputStreamReader(in, StandardCharsets.US_ASCII), file.toString(), selfLoops);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Reads a graph from a character stream; {@code name} is used in error messages. */
    public static CsrGraph read(Reader reader, String name, SelfLoops selfLoops) {
        try {
            return parse(new BufferedReader(reader, 1 << 16), name, selfLoops);
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static CsrGraph parse(BufferedReader in, String name, SelfLoops selfLoops) throws IOException {
        String banner = in.readLine();
        if (banner == null || !banner.regionMatches(true, 0, "%%MatrixMarket", 0, 14)) {
            throw new InvalidInputException(name + " line 1: not a Matrix Market file: the first line must be "
                    + "'%%MatrixMarket matrix coordinate real symmetric' (or general/integer/pattern)");
        }
        String[] h = banner.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (h.length != 5 || !h[1].equals("matrix")) {
            throw new InvalidInputException(name + " line 1: the header needs 5 words "
                    + "('%%MatrixMarket matrix coordinate <field> <symmetry>'), got '" + banner.trim() + "'");
        }
        if (!h[2].equals("coordinate")) {
            throw new InvalidInputException(name + " line 1: format '" + h[2] + "' is not supported; only sparse "
                    + "'coordinate' matrices are (convert dense 'array' files with scipy.io.mmwrite of a sparse matrix)");
        }
        String field = h[3];
        if (!field.equals("real") && !field.equals("integer") && !field.equals("pattern")) {
            throw new InvalidInputException(name + " line 1: field '" + field + "' is not supported; use real, "
                    + "integer or pattern (edge weights are real and non-negative)");
        }
        String symmetry = h[4];
        if (!symmetry.equals("general") && !symmetry.equals("symmetric")) {
            throw new InvalidInputException(name + " line 1: symmetry '" + symmetry + "' is not supported; a graph's "
                    + "adjacency is 'symmetric' (one triangle) or 'general' (both directions listed)");
        }
        boolean pattern = field.equals("pattern");
        int lineNo = 1;
        String line;
        do {
            line = in.readLine();
            lineNo++;
        } while (line != null && (line.isBlank() || line.startsWith("%")));
        if (line == null) {
            throw new InvalidInputException(name + ": missing the size line 'rows cols entries' after the header");
        }
        long[] size = new long[3];
        if (Tokens.longs(line, size) != 3) {
            throw new InvalidInputException(name + " line " + lineNo + ": the size line must be 'rows cols entries', got '"
                    + line.trim() + "'");
        }
        if (size[0] != size[1]) {
            throw new InvalidInputException(name + " line " + lineNo + ": a graph's adjacency is square, but this matrix is "
                    + size[0] + " x " + size[1]);
        }
        if (size[0] < 0 || size[0] > Integer.MAX_VALUE - 8 || size[2] < 0 || size[2] > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(name + " line " + lineNo + ": size " + size[0] + " nodes, " + size[2]
                    + " entries is out of range (at most 2^31 - 9 each)");
        }
        int n = (int) size[0];
        int count = (int) size[2];
        int[] rows = new int[count];
        int[] cols = new int[count];
        float[] vals = new float[count];
        int[] lines = new int[count];
        int e = 0;
        int expect = pattern ? 2 : 3;
        Tokens tok = new Tokens();
        while ((line = in.readLine()) != null) {
            lineNo++;
            if (line.isBlank() || line.startsWith("%")) {
                continue;
            }
            if (e == count) {
                throw new InvalidInputException(name + " line " + lineNo + ": more entries than the " + count
                        + " the size line announced");
            }
            int got = tok.parse(line, pattern);
            if (got != expect) {
                throw new InvalidInputException(name + " line " + lineNo + ": expected " + (pattern ? "'i j'" : "'i j value'")
                        + ", got '" + line.trim() + "'");
            }
            if (tok.i < 1 || tok.i > n || tok.j < 1 || tok.j > n) {
                throw new InvalidInputException(name + " line " + lineNo + ": index (" + tok.i + ", " + tok.j
                        + ") is outside [1, " + n + "] (Matrix Market indices are 1-based)");
            }
            rows[e] = (int) tok.i - 1;
            cols[e] = (int) tok.j - 1;
            vals[e] = pattern ? 1f : tok.value;
            lines[e] = lineNo;
            e++;
        }
        if (e != count) {
            throw new InvalidInputException(name + ": the size line announced " + count + " entries but the file has " + e
                    + " (truncated file?)");
        }
        final int[] lineOf = lines;
        return CsrGraph.fromEntries(n, rows, cols, vals, count, symmetry.equals("symmetric"), selfLoops,
                x -> name + " line " + lineOf[(int) x]);
    }

    /** Writes a graph as {@code coordinate real symmetric} (gzip-compressed if the name ends in .gz). */
    public static void write(CsrGraph graph, Path file) {
        try (OutputStream raw = Files.newOutputStream(file)) {
            OutputStream out = file.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(raw, 1 << 16) : raw;
            try (Writer w = new OutputStreamWriter(out, StandardCharsets.US_ASCII)) {
                write(graph, w);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes a graph as {@code coordinate real symmetric} to a character stream. */
    public static void write(CsrGraph graph, Writer writer) throws IOException {
        BufferedWriter w = new BufferedWriter(writer, 1 << 16);
        int n = graph.nodes();
        w.write("%%MatrixMarket matrix coordinate real symmetric\n");
        w.write("% written by Cleave (dev.cleave.graph.MatrixMarket): lower triangle, 1-based\n");
        w.write(n + " " + n + " " + graph.edges() + "\n");
        StringBuilder sb = new StringBuilder(64);
        for (int i = 0; i < n; i++) {
            for (long e = graph.rowStart(i); e < graph.rowEnd(i); e++) {
                int j = graph.column(e);
                if (j >= i) {
                    break; // rows are sorted: the rest is the upper triangle
                }
                sb.setLength(0);
                sb.append(i + 1).append(' ').append(j + 1).append(' ').append(graph.weight(e)).append('\n');
                w.append(sb);
            }
        }
        w.flush();
    }

    /** Minimal whitespace tokenizer for entry lines: no regex, no allocation per number. */
    private static final class Tokens {
        long i;
        long j;
        float value;

        int parse(String s, boolean pattern) {
            int[] pos = {0};
            int got = 0;
            long a = nextLong(s, pos);
            if (a < 0) {
                return got;
            }
            i = a;
            got++;
            long b = nextLong(s, pos);
            if (b < 0) {
                return got;
            }
            j = b;
            got++;
            String v = nextWord(s, pos);
            if (v != null) {
                if (pattern) {
                    return -1;
                }
                try {
                    value = Float.parseFloat(v);
                } catch (NumberFormatException e) {
                    return -1;
                }
                got++;
            }
            return nextWord(s, pos) == null ? got : -1;
        }

        static int longs(String s, long[] out) {
            int[] pos = {0};
            int got = 0;
            while (got < out.length) {
                long v = nextLong(s, pos);
                if (v < 0) {
                    return got;
                }
                out[got++] = v;
            }
            return nextWord(s, pos) == null ? got : -1;
        }

        private static String nextWord(String s, int[] pos) {
            int p = pos[0];
            int n = s.length();
            while (p < n && Character.isWhitespace(s.charAt(p))) {
                p++;
            }
            if (p == n) {
                pos[0] = p;
                return null;
            }
            int start = p;
            while (p < n && !Character.isWhitespace(s.charAt(p))) {
                p++;
            }
            pos[0] = p;
            return s.substring(start, p);
        }

        /** The next non-negative integer, or -1 if the next word is not one. */
        private static long nextLong(String s, int[] pos) {
            int p = pos[0];
            int n = s.length();
            while (p < n && Character.isWhitespace(s.charAt(p))) {
                p++;
            }
            int start = p;
            long v = 0;
            while (p < n && s.charAt(p) >= '0' && s.charAt(p) <= '9' && p - start < 18) {
                v = v * 10 + (s.charAt(p) - '0');
                p++;
            }
            if (p == start || (p < n && !Character.isWhitespace(s.charAt(p)))) {
                return -1;
            }
            pos[0] = p;
            return v;
        }
    }
}
