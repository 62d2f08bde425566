package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** Says what an I/O failure means in words for the model, with paths relative to the workspace. */
final class IoErrors {

    private final Workspace workspace;

    IoErrors(Workspace workspace) {
        this.workspace = requireNonNull(workspace, "workspace");
    }

    String describe(IOException e) {
        if (!(e instanceof FileSystemException failure)) {
            return e.getMessage() != null ? e.getMessage() : e.toString();
        }
        String file = failure.getFile() == null ? "" : shown(failure.getFile());
        return switch (failure) {
            case NoSuchFileException x -> "no such file: " + file;
            case AccessDeniedException x -> "permission denied: " + file;
            case NotDirectoryException x -> "not a directory: " + file;
            case FileAlreadyExistsException x -> "already exists: " + file;
            case DirectoryNotEmptyException x -> "directory not empty: " + file;
            default -> (failure.getReason() != null ? failure.getReason() : "I/O error") + ": " + file;
        };
    }

    private String shown(String file) {
        Path path = Path.of(file);
        return path.startsWith(workspace.root()) ? workspace.relativize(path) : file;
    }
}
