package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.seed.SeedArchive;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.proto.seed.SeedRefusedException;
import io.nomadshell.proto.v1.SeedAction;
import io.nomadshell.proto.v1.SeedResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Seeds the workspace from the archive the control plane sends in chunks before the job's first step
 * ({@link SeedAction}). The chunks are kept in a file outside the workspace (the sandbox's temporary
 * directory, within its disk); the last one unpacks it with {@link SeedArchive}, which refuses unsafe
 * entries and keeps the caps, and every path is then resolved again through {@link Workspace}, so
 * nothing lands outside it even through a link an earlier entry made.
 */
final class SeedTool {
    private final Workspace workspace;
    private final StagedChunks chunks = new StagedChunks("seed", Path.of(System.getProperty("java.io.tmpdir")));

    SeedTool(Workspace workspace) {
        this.workspace = requireNonNull(workspace, "workspace");
    }

    synchronized SeedResult run(SeedAction action) throws ToolException, IOException {
        var result = SeedResult.newBuilder().setReceived(chunks.append(action.getOffset(), action.getData()));
        if (!action.getLast()) {
            return result.build();
        }
        try {
            var summary = SeedArchive.read(chunks.file(), new SeedLimits(action.getMaxBytes(), action.getMaxEntries()),
                    new Unpack());
            return result.setFiles(summary.files()).setBytes(summary.bytes()).build();
        } catch (SeedRefusedException e) {
            throw new ToolException(e.getMessage());
        } finally {
            chunks.discard();
        }
    }

    /** Writes each entry into the workspace, replacing what is there (a re-seed writes the same files again). */
    private final class Unpack implements SeedArchive.Sink {
        @Override
        public void directory(String path) throws IOException {
            var directory = resolve(path);
            try {
                Files.createDirectories(directory);
            } catch (FileAlreadyExistsException e) {
                throw new IOException("entry '" + path + "' is a directory where a file already is");
            }
        }

        @Override
        public void file(String path, boolean executable, InputStream content) throws IOException {
            var target = resolve(path);
            Files.createDirectories(target.getParent());
            var temporary = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".seed");
            try {
                Files.copy(content, temporary, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
                // Moved over whatever is there, a link included: never written through one.
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(temporary);
            }
        }

        @Override
        public void symbolicLink(String path, String target) throws IOException {
            var link = resolve(path);
            var parent = path.contains("/") ? path.substring(0, path.lastIndexOf('/') + 1) : "";
            resolve(parent + target);
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of(target));
        }

        @Override
        public void hardLink(String path, String target) throws IOException {
            var existing = resolve(target);
            if (!Files.isRegularFile(existing, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("entry '" + path + "' is a hard link to '" + target + "', which is no file unpacked before it");
            }
            var link = resolve(path);
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createLink(link, existing);
        }

        private Path resolve(String path) throws IOException {
            try {
                return workspace.resolve(path);
            } catch (WorkspaceException e) {
                throw new IOException("entry '" + path + "' refused: " + e.getMessage());
            }
        }
    }
}
