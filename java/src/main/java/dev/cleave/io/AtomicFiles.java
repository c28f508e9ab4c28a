package dev.cleave.io;

import dev.cleave.util.InvalidInputException;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that a crash or an error never leaves a half-written one behind.
 *
 * <p>{@link #write} writes to a hidden temporary file beside the target
 * ({@code .NAME.<random>.tmp}, same directory, hence same file system), flushes and fsyncs it,
 * then renames it over the target with an atomic move. Readers see either the old content or
 * the new one, never a mix; on any failure the temporary file is deleted and the exception
 * rethrown, and the target is untouched. {@link #appendLine} is the append-only counterpart
 * for line logs such as {@code metrics.jsonl}.
 */
public final class AtomicFiles {
    private static final int BUFFER_BYTES = 1 << 16;

    private AtomicFiles() {}

    /**
     * Sees every block of bytes before it reaches the disk and may fail it (as a full disk
     * does) or hold it (to kill the process at that moment): a seam for tests of what a run
     * folder looks like after a write fails or a process dies mid-write. Not for production use.
     */
    @FunctionalInterface
    public interface WriteObserver {
        /**
         * @param target   the file being replaced or appended to
         * @param file     the file the bytes go to now (the temporary file of {@link #write})
         * @param position where in {@code file} the bytes start
         * @param length   how many bytes
         * @throws IOException to make the write fail as the file system would
         */
        void beforeWrite(Path target, Path file, long position, int length) throws IOException;
    }

    private static volatile WriteObserver observer;

    /** Installs {@code o} for every later write in this JVM (null removes it). Tests only. */
    public static void observeWrites(WriteObserver o) {
        observer = o;
    }

    private static void observe(Path target, Path file, long position, int length) throws IOException {
        WriteObserver o = observer;
        if (o != null) {
            o.beforeWrite(target, file, position, length);
        }
    }

    /** Writes a file's content to {@code out}; must not keep {@code out} after returning. */
    @FunctionalInterface
    public interface IoWriter {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Atomically replaces (or creates) {@code target} with what {@code writer} writes. The
     * stream given to the writer is buffered; closing it is allowed and harmless. The target's
     * directory must exist.
     *
     * @throws IOException from the writer or the file system; the target then keeps its old
     *                     content (or stays absent) and no temporary file remains
     */
    public static void write(Path target, IoWriter writer) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        if (Files.isDirectory(target)) {
            throw new FileSystemException(target.toString(), null, "is a directory, cannot write a file there");
        }
        Path temp = null;
        FileChannel channel = null;
        try {
            for (int attempt = 0; channel == null; attempt++) {
                temp = dir.resolve("." + target.getFileName() + "."
                        + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16) + ".tmp");
                try {
                    channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                } catch (FileAlreadyExistsException e) {
                    if (attempt >= 9) {
                        throw e;
                    }
                    temp = null;
                }
            }
            Path tempFile = temp;
            try (FileChannel ch = channel) {
                OutputStream raw = Channels.newOutputStream(ch);
                OutputStream observed = new FilterOutputStream(raw) {
                    private long position;

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        observe(target, tempFile, position, len);
                        out.write(b, off, len);
                        position += len;
                    }

                    @Override
                    public void write(int b) throws IOException {
                        write(new byte[] {(byte) b}, 0, 1);
                    }
                };
                OutputStream buffered = new BufferedOutputStream(observed, BUFFER_BYTES);
                writer.write(new FilterOutputStream(buffered) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        flush(); // the channel stays open: it is fsynced and closed below
                    }
                });
                buffered.flush();
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temp = null;
            syncDirectory(dir);
        } catch (IOException | RuntimeException | Error e) {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** Atomically replaces (or creates) {@code target} with {@code text} in UTF-8. */
    public static void writeString(Path target, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        write(target, out -> out.write(bytes));
    }

    /**
     * Appends {@code line} and a newline to {@code file} (created if absent) in one write, then
     * fsyncs, so a reader (or a crash) sees whole lines only. If the file does not end with a
     * newline (a previous crash cut a line short), a newline is written first so the new line
     * stays parseable on its own.
     *
     * @param line one line of text, without line breaks
     * @throws IllegalArgumentException if {@code line} contains a line break
     */
    public static void appendLine(Path file, String line) throws IOException {
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("appendLine writes one line; the text contains a line break");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            long size = ch.size();
            boolean needsNewline = false;
            if (size > 0) {
                ByteBuffer last = ByteBuffer.allocate(1);
                ch.read(last, size - 1);
                needsNewline = last.get(0) != '\n';
            }
            byte[] body = ((needsNewline ? "\n" : "") + line + "\n").getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.wrap(body);
            long position = size;
            try {
                observe(file, file, position, body.length);
                while (buffer.hasRemaining()) {
                    position += ch.write(buffer, position);
                }
                ch.force(true);
            } catch (IOException e) {
                try {
                    ch.truncate(size); // a failed append (a full disk) leaves no partial line behind
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    /**
     * Deletes the temporary files that {@link #write} leaves beside {@code target} when the
     * process is killed mid-write ({@code .NAME.<random>.tmp}); returns how many it deleted.
     * Call it only while no other process writes {@code target}.
     */
    public static int removeTempFiles(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        String prefix = "." + target.getFileName() + ".";
        int removed = 0;
        try (java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(dir, p -> {
            String name = p.getFileName().toString();
            return name.startsWith(prefix) && name.endsWith(".tmp") && name.length() > prefix.length() + 4;
        })) {
            for (Path p : entries) {
                if (Files.deleteIfExists(p)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /**
     * Creates {@code dir} (and its parents) if needed and checks that a file can be created in
     * it, by creating and deleting a hidden probe file.
     *
     * @param optionName the command-line option or setting that named the folder, for the
     *                   message, e.g. {@code "--out"}
     * @throws InvalidInputException like {@code "--out /x/y: cannot create or write the output
     *                               folder (Permission denied): choose a folder you can write to"}
     */
    public static void ensureWritableDirectory(Path dir, String optionName) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".cleave-write-check.", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new InvalidInputException(optionName + " " + dir + ": cannot create or write the output folder ("
                    + InputFiles.reason(e) + "): choose a folder you can write to", e);
        }
    }

    /**
     * Checks, before any work, that {@code file} can be written as an output file: it is not a
     * folder, and its folder exists (created if missing) and is writable.
     */
    public static void ensureWritableFile(Path file, String optionName) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(optionName + " " + file + " is a folder: give the path of a file (inside that folder "
                    + "or elsewhere)");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null) {
            return;
        }
        try {
            Files.createDirectories(parent);
            Path probe = Files.createTempFile(parent, ".cleave-write-check.", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new InvalidInputException(optionName + " " + file + ": cannot write into its folder " + parent + " ("
                    + InputFiles.reason(e) + "): choose a path you can write to", e);
        }
    }

    /** Makes a completed rename durable; best effort (not every platform can open a directory). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the rename itself is atomic; only its durability across a power cut is not assured here
        }
    }
}
