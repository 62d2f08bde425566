package io.nomadshell.controlplane.artifact;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.apache.commons.compress.archivers.zip.Zip64Mode;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zips a workspace directory on this host, for a local sandbox that ended before its daemon could
 * send the zip. Same rules as the daemon's archive tool (the daemon cannot share code with the
 * control plane): regular files only, sorted by name, links never followed, only the nine
 * permission bits. Only for a sandbox whose processes are all gone, so nothing moves under it.
 */
public final class HostZip {
    private static final Logger log = LoggerFactory.getLogger(HostZip.class);
    private static final int REGULAR_FILE_TYPE = 0100000;
    private static final int BUFFER_BYTES = 64 * 1024;

    private HostZip() {}

    /**
     * Writes the zip of {@code root} to {@code out}; returns how many files went in.
     *
     * @throws TimeoutException once {@code deadline} has passed (checked between buffers)
     */
    public static int write(Path root, OutputStream out, Instant deadline) throws IOException, TimeoutException {
        requireNonNull(root, "root");
        requireNonNull(out, "out");
        requireNonNull(deadline, "deadline");
        var real = root.toRealPath();
        var members = regularFiles(real);
        int files = 0;
        var buffer = new byte[BUFFER_BYTES];
        try (var zip = new ZipArchiveOutputStream(out)) {
            zip.setUseZip64(Zip64Mode.AsNeeded);
            for (var file : members) {
                if (add(zip, real, file, buffer, deadline)) {
                    files++;
                }
            }
        }
        return files;
    }

    private static boolean add(ZipArchiveOutputStream zip, Path root, Path file, byte[] buffer, Instant deadline)
            throws IOException, TimeoutException {
        InputStream in;
        PosixFileAttributes attributes;
        try {
            // A directory on the way that became a link would lead outside: refuse what resolves elsewhere.
            if (!file.toRealPath().startsWith(root)) {
                return false;
            }
            in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
            attributes = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            log.warn("the zip skips {}: {}", root.relativize(file), e.toString());
            return false;
        }
        try (in) {
            if (!attributes.isRegularFile()) {
                return false;
            }
            var entry = new ZipArchiveEntry(root.relativize(file).toString());
            entry.setLastModifiedTime(attributes.lastModifiedTime());
            entry.setUnixMode(REGULAR_FILE_TYPE | modeBits(attributes));
            zip.putArchiveEntry(entry);
            for (int read; (read = in.read(buffer)) > 0; ) {
                if (Instant.now().isAfter(deadline)) {
                    throw new TimeoutException("zipping took too long");
                }
                zip.write(buffer, 0, read);
            }
            zip.closeArchiveEntry();
        }
        return true;
    }

    private static List<Path> regularFiles(Path root) throws IOException {
        var files = new ArrayList<Path>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                log.warn("the zip skips {}: {}", root.relativize(file), e.toString());
                return FileVisitResult.CONTINUE;
            }
        });
        files.sort(Comparator.comparing(file -> root.relativize(file).toString()));
        return files;
    }

    /** No set-uid, set-gid or sticky bit: an unzip run by root could restore them. */
    private static int modeBits(PosixFileAttributes attributes) {
        int mode = 0;
        for (PosixFilePermission permission : attributes.permissions()) {
            mode |= 0400 >> permission.ordinal();
        }
        return mode;
    }
}
