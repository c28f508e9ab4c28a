package dev.cleave.graph;

import dev.cleave.io.InputFiles;
import dev.cleave.util.InvalidInputException;
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
import org.eclipse.collections.impl.list.mutable.primitive.FloatArrayList;
import org.eclipse.collections.impl.list.mutable.primitive.IntArrayList;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Reads and writes graphs in the Matrix Market exchange format (the format of SuiteSparse and
 * of {@code scipy.io.mmread}/{@code mmwrite}).
 *
 * <p>Read: {@code coordinate} matrices with field {@code real}, {@code integer} or
 * {@code pattern} (every weight 1) and symmetry {@code general} (both directions must be
 * present and equal) or {@code symmetric} (one triangle; each entry stands for both
 * directions). The matrix must be square. Weights are stored as float32 and must be finite
 * and non-negative ({@code nan} and {@code inf} are read as such and refused by name). Diagonal
 * entries and repeated entries follow {@link SelfLoops} and {@link Duplicates}; by default they
 * are read as scipy.io.mmread and scipy's Laplacian see them (diagonal dropped, repeats summed).
 * Files ending in {@code .gz} are decompressed. Lines longer than {@link #MAX_LINE} characters
 * are refused, and so is a size line whose graph would not fit in the heap (with the bytes it
 * needs), before anything is allocated. Errors name the file and line and say how to fix the
 * input.
 *
 * <p>Write: {@code coordinate real symmetric}, the lower triangle, 1-based, each weight in the
 * shortest decimal that reads back to the same float.
 */
public final class MatrixMarket {
    /** The longest line read, in characters: entry lines are short, comments rarely long. */
    public static final int MAX_LINE = 1 << 20;

    /** The rules for diagonal and repeated entries of a file, and how the user changes them. */
    private static CsrGraph.EntryRules rules(SelfLoops selfLoops, Duplicates duplicates, boolean symmetric) {
        return new CsrGraph.EntryRules(selfLoops, duplicates,
                "remove the diagonal entries, or drop them with --self-loops drop (the default), which gives the "
                        + "Laplacian scipy and scikit-learn compute",
                (symmetric ? "a symmetric file lists each edge once (one triangle); " : "")
                        + "remove the repeated entry, or add repeated entries up as SciPy does with --duplicates sum "
                        + "(the default)", 1);
    }

    private MatrixMarket() {}

    /**
     * Reads a graph as scipy.io.mmread and scipy's Laplacian see it: diagonal entries dropped,
     * repeated entries summed.
     */
    public static CsrGraph read(Path file) {
        return read(file, SelfLoops.DROP, Duplicates.SUM);
    }

    /** Reads a graph with the given policy for diagonal entries; repeated entries are summed. */
    public static CsrGraph read(Path file, SelfLoops selfLoops) {
        return read(file, selfLoops, Duplicates.SUM);
    }

    /**
     * Reads a graph with the given policies for diagonal and repeated entries. The file must be
     * a regular file (a pipe, a device or a folder is refused before it is opened).
     */
    public static CsrGraph read(Path file, SelfLoops selfLoops, Duplicates duplicates) {
        InputFiles.requireReadableFile(file, "a Matrix Market graph (.mtx)");
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
            return read(new InputStreamReader(in, StandardCharsets.US_ASCII), file.toString(), selfLoops, duplicates);
        } catch (IOException e) {
            throw InputFiles.cannotRead(file, e);
        }
    }

    /** Reads a graph from a character stream; {@code name} is used in error messages. */
    public static CsrGraph read(Reader reader, String name, SelfLoops selfLoops, Duplicates duplicates) {
        if (selfLoops == null || duplicates == null) {
            throw new InvalidInputException("the selfLoops (REJECT or DROP) and duplicates (SUM or REJECT) policies "
                    + "must not be null");
        }
        try {
            return parse(new LineReader(reader, name), name, selfLoops, duplicates);
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot read (" + InputFiles.reason(e) + ")", e);
        }
    }

    private static CsrGraph parse(LineReader in, String name, SelfLoops selfLoops, Duplicates duplicates)
            throws IOException {
        String banner = in.next();
        if (banner == null || !banner.regionMatches(true, 0, "%%MatrixMarket", 0, 14)) {
            throw new InvalidInputException(name + " line 1: not a Matrix Market file: the first line must be "
                    + "'%%MatrixMarket matrix coordinate real symmetric' (or general/integer/pattern)");
        }
        String[] h = banner.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (h.length != 5 || !h[1].equals("matrix")) {
            throw new InvalidInputException(name + " line 1: the header needs 5 words "
                    + "('%%MatrixMarket matrix coordinate <field> <symmetry>'), got '" + shorten(banner) + "'");
        }
        if (!h[2].equals("coordinate")) {
            throw new InvalidInputException(name + " line 1: format '" + shorten(h[2]) + "' is not supported; only sparse "
                    + "'coordinate' matrices are (convert dense 'array' files with scipy.io.mmwrite of a sparse matrix)");
        }
        String field = h[3];
        if (!field.equals("real") && !field.equals("integer") && !field.equals("pattern")) {
            throw new InvalidInputException(name + " line 1: field '" + shorten(field) + "' is not supported; use real, "
                    + "integer or pattern (edge weights are real and non-negative)");
        }
        String symmetry = h[4];
        if (!symmetry.equals("general") && !symmetry.equals("symmetric")) {
            throw new InvalidInputException(name + " line 1: symmetry '" + shorten(symmetry) + "' is not supported; a "
                    + "graph's adjacency is 'symmetric' (one triangle) or 'general' (both directions listed)");
        }
        boolean pattern = field.equals("pattern");
        boolean symmetric = symmetry.equals("symmetric");
        String line;
        do {
            line = in.next();
        } while (line != null && (line.isBlank() || line.startsWith("%")));
        if (line == null) {
            throw new InvalidInputException(name + ": missing the size line 'rows cols entries' after the header");
        }
        int sizeLine = in.lineNumber();
        long[] size = new long[3];
        if (Tokens.longs(line, size) != 3) {
            throw new InvalidInputException(name + " line " + sizeLine + ": the size line must be 'rows cols entries' "
                    + "(three non-negative integers), got '" + shorten(line) + "'");
        }
        if (size[0] != size[1]) {
            throw new InvalidInputException(name + " line " + sizeLine + ": a graph's adjacency is square, but this matrix is "
                    + size[0] + " x " + size[1]);
        }
        if (size[0] > Integer.MAX_VALUE - 8 || size[2] > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(name + " line " + sizeLine + ": size " + size[0] + " nodes, " + size[2]
                    + " entries is out of range (at most 2^31 - 9 each)");
        }
        int n = (int) size[0];
        int count = (int) size[2];
        requireMemory(name + " line " + sizeLine + ": " + n + " nodes and " + count + " entries",
                bytesToRead(n, count, symmetric));
        // The lists grow as entries arrive, so a size line that promises more than the file holds
        // costs nothing.
        int initial = Math.min(count, 1 << 16);
        IntArrayList rows = new IntArrayList(initial);
        IntArrayList cols = new IntArrayList(initial);
        FloatArrayList vals = new FloatArrayList(initial);
        IntArrayList lines = new IntArrayList(initial);
        int expect = pattern ? 2 : 3;
        Tokens tok = new Tokens();
        while ((line = in.next()) != null) {
            int lineNo = in.lineNumber();
            if (line.isBlank() || line.startsWith("%")) {
                continue;
            }
            if (rows.size() == count) {
                throw new InvalidInputException(name + " line " + lineNo + ": more entries than the " + count
                        + " the size line announced");
            }
            int got = tok.parse(line, pattern);
            if (got != expect) {
                throw new InvalidInputException(name + " line " + lineNo + ": expected "
                        + (pattern ? "'i j'" : "'i j value'") + " (1-based indices"
                        + (pattern ? "" : ", a decimal weight") + "), got '" + shorten(line) + "'");
            }
            if (tok.i < 1 || tok.i > n || tok.j < 1 || tok.j > n) {
                throw new InvalidInputException(name + " line " + lineNo + ": index (" + tok.i + ", " + tok.j
                        + ") is outside [1, " + n + "] (Matrix Market indices are 1-based)");
            }
            rows.add((int) tok.i - 1);
            cols.add((int) tok.j - 1);
            vals.add(pattern ? 1f : tok.value);
            lines.add(lineNo);
        }
        if (rows.size() != count) {
            throw new InvalidInputException(name + ": the size line announced " + count + " entries but the file has "
                    + rows.size() + " (truncated file?)");
        }
        return CsrGraph.fromEntries(n, rows, cols, vals, symmetric, rules(selfLoops, duplicates, symmetric),
                x -> name + " line " + lines.get((int) x));
    }

    /**
     * An upper bound on the heap bytes reading a graph of this size takes at its peak: the
     * entries as read (4 lists of 4 bytes), then the builder's per-node counts and offsets and its
     * columns, weights and sources (twice over for a symmetric file, whose entries are mirrored),
     * and for a general file the transpose the symmetry check builds.
     */
    static long bytesToRead(long nodes, long entries, boolean symmetric) {
        long stored = symmetric ? 2 * entries : entries;
        long parse = 16 * entries;
        long build = entries + 12 * stored + 40 * (nodes + 1);
        long transpose = symmetric ? 0 : 12 * stored + 16 * (nodes + 1);
        return parse + build + transpose;
    }

    /** Fails, before anything is allocated, when the heap cannot hold {@code bytes} more. */
    private static void requireMemory(String what, long bytes) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (bytes > free) {
            throw new InvalidInputException(what + " need about " + bytes + " bytes (" + gib(bytes) + ") of memory to "
                    + "read, but the JVM has " + free + " bytes (" + gib(free) + ") free; raise the heap (JAVA_OPTS=-Xmx"
                    + Math.max(1, (bytes + bytes / 4 + (1L << 30) - 1) >> 30) + "g) or check the size line");
        }
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    /** A line for a message: at most 80 characters. */
    private static String shorten(String line) {
        String t = line.trim();
        return t.length() <= 80 ? t : t.substring(0, 77) + "...";
    }

    /**
     * Lines of at most {@link #MAX_LINE} characters, ended by \n, \r\n or \r, counted from 1, so a
     * file without line breaks (or /dev/zero behind a link) fails fast instead of filling the heap.
     */
    private static final class LineReader {
        private final Reader in;
        private final String name;
        private final char[] buf = new char[1 << 16];
        private int pos;
        private int end;
        private int lineNo;
        private boolean skipLf;
        private final StringBuilder sb = new StringBuilder(128);

        LineReader(Reader in, String name) {
            this.in = in;
            this.name = name;
        }

        int lineNumber() {
            return lineNo;
        }

        /** The next line without its terminator, or null at the end of the input. */
        String next() throws IOException {
            sb.setLength(0);
            boolean any = false;
            while (true) {
                if (pos == end) {
                    end = in.read(buf, 0, buf.length);
                    pos = 0;
                    if (end <= 0) {
                        end = 0;
                        if (!any) {
                            return null;
                        }
                        lineNo++;
                        return sb.toString();
                    }
                }
                char c = buf[pos++];
                if (skipLf) {
                    skipLf = false;
                    if (c == '\n') {
                        continue;
                    }
                }
                any = true;
                if (c == '\n' || c == '\r') {
                    skipLf = c == '\r';
                    lineNo++;
                    return sb.toString();
                }
                if (sb.length() == MAX_LINE) {
                    throw new InvalidInputException(name + " line " + (lineNo + 1) + ": longer than " + MAX_LINE
                            + " characters; a Matrix Market file is text with one entry per line (is this the right file?)");
                }
                sb.append(c);
            }
        }
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
                Float x = v.length() <= 9 ? special(v) : null;
                if (x != null) {
                    value = x;
                } else {
                    try {
                        value = Float.parseFloat(v);
                    } catch (NumberFormatException e) {
                        return -1;
                    }
                }
                got++;
            }
            return nextWord(s, pos) == null ? got : -1;
        }

        /**
         * NaN and the infinities as C, Python and Java print them ("nan", "inf", "-Infinity", any
         * case), so the graph builder can say weights must be finite; null for any other word.
         */
        private static Float special(String v) {
            String w = v.toLowerCase(Locale.ROOT);
            boolean neg = w.startsWith("-");
            if (neg || w.startsWith("+")) {
                w = w.substring(1);
            }
            if (w.equals("inf") || w.equals("infinity")) {
                return neg ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
            }
            return w.equals("nan") ? Float.NaN : null;
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
