package dev.cleave.io;

import dev.cleave.util.InvalidInputException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * The checks and messages every file reader shares, so a missing or unreadable input file
 * reads the same whichever format it was meant to be.
 */
public final class InputFiles {
    private InputFiles() {}

    /**
     * Checks that {@code file} exists, is a regular file and is readable.
     *
     * @param what what the file should hold, for the message, e.g. "IDX image file"
     * @throws InvalidInputException naming the file and the problem
     */
    public static void requireReadableFile(Path file, String what) {
        if (!Files.exists(file)) {
            throw new InvalidInputException(file + ": no such file (expected " + what + "): check the path");
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": is not a regular file (expected " + what + ")");
        }
        if (!Files.isReadable(file)) {
            throw new InvalidInputException(file + ": cannot read " + what + " (Permission denied): check its permissions");
        }
    }

    /** The user-facing exception for an I/O failure while reading {@code file}. */
    public static InvalidInputException cannotRead(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return new InvalidInputException(file + ": no such file: check the path", e);
        }
        return new InvalidInputException(file + ": cannot read (" + reason(e) + ")", e);
    }

    /** A short human reason for a file-system failure, e.g. "Permission denied". */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof FileAlreadyExistsException f) {
            return f.getFile() + " exists and is not a folder";
        }
        if (e instanceof NoSuchFileException f) {
            return "no such file or folder: " + f.getFile();
        }
        if (e instanceof NotDirectoryException f) {
            return f.getFile() + " is not a folder";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
