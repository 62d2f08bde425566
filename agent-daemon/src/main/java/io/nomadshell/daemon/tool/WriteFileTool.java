package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.WriteFileAction;
import io.nomadshell.proto.v1.WriteFileResult;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes a whole file, creating its parent directories. The content goes to a temporary file
 * beside the target and is moved over it atomically, so no reader ever sees half a file.
 */
final class WriteFileTool {

    private static final Set<PosixFilePermission> NEW_FILE_PERMISSIONS =
            PosixFilePermissions.fromString("rw-r--r--");

    private final Workspace workspace;

    WriteFileTool(Workspace workspace) {
        this.workspace = requireNonNull(workspace, "workspace");
    }

    WriteFileResult run(WriteFileAction action) throws ToolException, WorkspaceException, IOException {
        String given = action.getPath();
        Path path = workspace.resolve(given);
        if (Files.isDirectory(path)) {
            throw new ToolException("is a directory: " + (given.isEmpty() ? "." : given));
        }
        // Write through a link (resolve() has checked it stays inside) instead of replacing it.
        Path target = Files.isSymbolicLink(path) && Files.exists(path) ? path.toRealPath() : path;
        Path directory = target.getParent();
        try {
            Files.createDirectories(directory);
        } catch (FileAlreadyExistsException e) {
            throw new ToolException("not a directory: " + workspace.relativize(Path.of(e.getFile())));
        }
        // Keep an existing file's mode (a script stays executable); a temp file would be 0600.
        Set<PosixFilePermission> permissions =
                Files.exists(target) ? Files.getPosixFilePermissions(target) : NEW_FILE_PERMISSIONS;
        Path temp = Files.createTempFile(directory, "." + target.getFileName() + ".", ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temp)) {
                action.getContent().writeTo(out);
            }
            Files.setPosixFilePermissions(temp, permissions);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        return WriteFileResult.newBuilder().setBytesWritten(action.getContent().size()).build();
    }
}
