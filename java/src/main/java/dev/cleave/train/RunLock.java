package dev.cleave.train;

import dev.cleave.io.InputFiles;
import dev.cleave.util.InvalidInputException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lock a training run holds on its folder: an operating-system lock on the file
 * {@value #FILE} in the folder, held from the start of the run to its end. The operating
 * system releases it when the process dies, however it dies, so a killed run never leaves a
 * stale lock; the file's content (pid, host, start time) only serves the message a second run
 * gets, and the file itself stays in the folder.
 */
final class RunLock implements AutoCloseable {
    /** The lock file's name inside the run folder. */
    static final String FILE = ".cleave-lock";

    /**
     * The folders this JVM holds. A second channel on a held lock file is never opened: on some
     * systems closing any channel of a file releases every lock the process holds on it.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final FileChannel channel;
    private final FileLock lock;
    private final Path key;

    private RunLock(FileChannel channel, FileLock lock, Path key) {
        this.channel = channel;
        this.lock = lock;
        this.key = key;
    }

    /**
     * Locks {@code dir} (which must exist) for this process.
     *
     * @param option the option that named the folder, for the message (--out, --resume)
     * @throws InvalidInputException when another run holds the folder, naming its pid, host and
     *                               start time, or when the folder cannot be locked
     */
    static RunLock acquire(Path dir, String option) {
        Path file = dir.resolve(FILE);
        Path key;
        try {
            key = dir.toRealPath();
        } catch (IOException e) {
            throw new InvalidInputException(option + " " + dir + ": cannot open the run folder (" + InputFiles.reason(e)
                    + "): choose a folder you can write to", e);
        }
        if (!HELD.add(key)) {
            throw inUse(option, dir, "pid " + ProcessHandle.current().pid() + ", this process");
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            HELD.remove(key);
            throw new InvalidInputException(option + " " + dir + ": cannot create the lock file " + file + " ("
                    + InputFiles.reason(e) + "): choose a folder you can write to", e);
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held through another path to the same file in this JVM
            }
            if (lock == null) {
                String holder = holder(ch);
                ch.close();
                HELD.remove(key);
                throw inUse(option, dir, holder.isEmpty() ? "its details are not written yet" : holder);
            }
            String me = "pid " + ProcessHandle.current().pid() + " on " + hostName() + ", started "
                    + Instant.now().truncatedTo(ChronoUnit.SECONDS);
            ch.truncate(0);
            ByteBuffer b = ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8));
            long position = 0;
            while (b.hasRemaining()) {
                position += ch.write(b, position);
            }
            return new RunLock(ch, lock, key);
        } catch (IOException e) {
            HELD.remove(key);
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new InvalidInputException(option + " " + dir + ": cannot lock the run folder (" + InputFiles.reason(e)
                    + "): the file system may not support locks; use a local folder", e);
        }
    }

    private static InvalidInputException inUse(String option, Path dir, String holder) {
        return new InvalidInputException(option + " " + dir + " is in use by another cleave run (" + holder
                + "): wait for that run to end or stop it, or choose another folder");
    }

    /** What the holder wrote into the lock file (one line), or "" when nothing is there yet. */
    private static String holder(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(512);
        long position = 0;
        int n;
        while (b.hasRemaining() && (n = ch.read(b, position)) > 0) {
            position += n;
        }
        String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
        int newline = text.indexOf('\n');
        return (newline >= 0 ? text.substring(0, newline) : text).strip();
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "this host" : env;
        }
    }

    @Override
    public void close() {
        try (FileChannel ch = channel) {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel (done by try-with-resources) releases the lock too; so does the process's end
        } finally {
            HELD.remove(key);
        }
    }
}
