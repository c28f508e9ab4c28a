package dev.cleave.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static dev.cleave.io.InvalidInputAssertions.assertInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writeCreatesTheFileAndLeavesNoTemporaryFile() throws IOException {
        Path target = dir.resolve("model.json");
        AtomicFiles.writeString(target, "{\"a\": \"é\"}");
        assertEquals("{\"a\": \"é\"}", Files.readString(target, StandardCharsets.UTF_8));
        assertEquals(List.of("model.json"), names());
    }

    @Test
    void writeReplacesExistingContent() throws IOException {
        Path target = dir.resolve("out.bin");
        AtomicFiles.writeString(target, "old content that is longer");
        AtomicFiles.write(target, out -> out.write(new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        assertEquals(List.of("out.bin"), names());
    }

    @Test
    void writerFailingMidwayKeepsTheOldFileAndRemovesTheTemporary() throws IOException {
        Path target = dir.resolve("weights.safetensors");
        AtomicFiles.writeString(target, "old");
        IOException thrown = new IOException("disk on fire");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[3 << 20]); // more than the buffer: part of it reaches the temporary file
            throw thrown;
        }));
        assertSame(thrown, e);
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("weights.safetensors"), names());
    }

    @Test
    void writerThrowingUncheckedLeavesNoFileWhenThereWasNone() throws IOException {
        Path target = dir.resolve("new.json");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, out -> {
            out.write('x');
            throw new IllegalStateException("bug");
        }));
        assertFalse(Files.exists(target));
        assertEquals(List.of(), names());
    }

    @Test
    void writerMayCloseTheStream() throws IOException {
        Path target = dir.resolve("data.gz");
        AtomicFiles.write(target, out -> {
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write("hello".getBytes(StandardCharsets.UTF_8));
            }
        });
        try (InputStream in = new GZIPInputStream(Files.newInputStream(target))) {
            assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void writeOntoADirectoryFails() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(sub, "x"));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertEquals(List.of("sub"), names());
    }

    @Test
    void appendLineWritesWholeLines() throws IOException {
        Path log = dir.resolve("metrics.jsonl");
        AtomicFiles.appendLine(log, "{\"epoch\":1}");
        AtomicFiles.appendLine(log, "{\"epoch\":2}");
        assertEquals("{\"epoch\":1}\n{\"epoch\":2}\n", Files.readString(log));
    }

    @Test
    void appendLineAfterACutShortLineStartsANewLine() throws IOException {
        Path log = dir.resolve("metrics.jsonl");
        Files.writeString(log, "{\"epoch\":1}\n{\"epo");
        AtomicFiles.appendLine(log, "{\"epoch\":2}");
        assertEquals(List.of("{\"epoch\":1}", "{\"epo", "{\"epoch\":2}"), Files.readAllLines(log));
    }

    @Test
    void appendLineRejectsLineBreaks() {
        assertThrows(IllegalArgumentException.class, () -> AtomicFiles.appendLine(dir.resolve("m.jsonl"), "a\nb"));
        assertFalse(Files.exists(dir.resolve("m.jsonl")));
    }

    @Test
    void ensureWritableDirectoryCreatesNestedFolders() throws IOException {
        Path out = dir.resolve("a/b/c");
        AtomicFiles.ensureWritableDirectory(out, "--out");
        assertTrue(Files.isDirectory(out));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(0, files.count(), "the write probe must be removed");
        }
    }

    @Test
    void ensureWritableDirectoryRejectsAPathUnderAFile() throws IOException {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        assertInvalid(() -> AtomicFiles.ensureWritableDirectory(file, "--out"),
                "--out " + file, "cannot create or write the output folder", "choose a folder you can write to");
        assertInvalid(() -> AtomicFiles.ensureWritableDirectory(file.resolve("sub"), "--out"),
                "--out " + file.resolve("sub"), "cannot create or write the output folder");
    }

    @Test
    void ensureWritableDirectoryRejectsAReadOnlyFolder() throws IOException {
        assumeFalse("root".equals(System.getProperty("user.name")), "root can write to read-only folders: nothing to check");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        assertTrue(locked.toFile().setWritable(false, false));
        try {
            assertInvalid(() -> AtomicFiles.ensureWritableDirectory(locked.resolve("run1"), "--out"),
                    "--out " + locked.resolve("run1"), "Permission denied", "choose a folder you can write to");
        } finally {
            locked.toFile().setWritable(true, true);
        }
    }
}
