package io.nomadshell.controlplane.seed;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * A directory as a tar.gz seed archive: directories, regular files (keeping the execute bit) and
 * symbolic links as links (never followed), paths relative to the directory. Whatever it holds is
 * then checked by {@code SeedArchive} like any upload.
 */
final class TreeArchive {
    private TreeArchive() {}

    static void write(Path root, Path archive) throws IOException {
        try (var tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(
                new BufferedOutputStream(Files.newOutputStream(archive))))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                    if (!dir.equals(root)) {
                        tar.putArchiveEntry(new TarArchiveEntry(name(dir) + "/"));
                        tar.closeArchiveEntry();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isSymbolicLink()) {
                        var entry = new TarArchiveEntry(name(file), TarArchiveEntry.LF_SYMLINK);
                        entry.setLinkName(Files.readSymbolicLink(file).toString());
                        tar.putArchiveEntry(entry);
                        tar.closeArchiveEntry();
                    } else if (attrs.isRegularFile()) {
                        var entry = new TarArchiveEntry(name(file));
                        boolean executable = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS)
                                .contains(PosixFilePermission.OWNER_EXECUTE);
                        entry.setMode(executable ? 0100755 : 0100644);
                        entry.setSize(attrs.size());
                        tar.putArchiveEntry(entry);
                        Files.copy(file, tar);
                        tar.closeArchiveEntry();
                    }
                    return FileVisitResult.CONTINUE;
                }

                private String name(Path path) {
                    return root.relativize(path).toString();
                }
            });
        }
    }
}
