package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.ArchiveResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.commons.compress.archivers.zip.Zip64Mode;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zips the whole workspace and streams the zip as it is produced, in chunks; nothing is buffered
 * beyond one chunk and nothing is written inside the workspace. Only regular files go in (links,
 * sockets and the like are skipped), sorted by name, with their modes and modification times.
 */
final class ArchiveTool {

    static final int CHUNK_BYTES = 256 * 1024;

    private static final Logger log = LoggerFactory.getLogger(ArchiveTool.class);
    /** Unix file-type bits of a regular file, as zip tools expect in the mode. */
    private static final int REGULAR_FILE_TYPE = 0100000;

    private final Workspace workspace;

    ArchiveTool(Workspace workspace) {
        this.workspace = requireNonNull(workspace, "workspace");
    }

    ArchiveResult run(CallEvents events) throws IOException {
        List<Member> members = regularFiles();
        ChunkStream chunks = new ChunkStream(events::archiveChunk, CHUNK_BYTES);
        int files = 0;
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(chunks)) {
            zip.setUseZip64(Zip64Mode.AsNeeded);
            for (Member member : members) {
                if (add(zip, member)) {
                    files++;
                }
            }
        }
        return ArchiveResult.newBuilder()
                .setBytes(chunks.count())
                .setSha256(chunks.sha256Hex())
                .setFiles(files)
                .build();
    }

    private boolean add(ZipArchiveOutputStream zip, Member member) throws IOException {
        InputStream in;
        PosixFileAttributes attributes;
        try {
            // Opened before the entry is started, so an unreadable file is skipped cleanly.
            in = Files.newInputStream(member.path(), LinkOption.NOFOLLOW_LINKS);
            attributes = Files.readAttributes(
                    member.path(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            log.warn("archive skips {}: {}", member.name(), e.toString());
            return false;
        }
        try (in) {
            ZipArchiveEntry entry = new ZipArchiveEntry(member.name());
            entry.setLastModifiedTime(attributes.lastModifiedTime());
            entry.setUnixMode(REGULAR_FILE_TYPE | modeBits(attributes));
            zip.putArchiveEntry(entry);
            in.transferTo(zip);
            zip.closeArchiveEntry();
        }
        return true;
    }

    private List<Member> regularFiles() throws IOException {
        List<Member> members = new ArrayList<>();
        Files.walkFileTree(workspace.root(), new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                if (attributes.isRegularFile()) {
                    members.add(new Member(workspace.relativize(file), file));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                log.warn("archive skips {}: {}", workspace.relativize(file), e.toString());
                return FileVisitResult.CONTINUE;
            }
        });
        members.sort(Comparator.comparing(Member::name));
        return members;
    }

    /**
     * The nine permission bits, and nothing above them: set-uid, set-gid and sticky bits never reach
     * the zip, where an unzip run by root could restore them.
     */
    private static int modeBits(PosixFileAttributes attributes) {
        int mode = 0;
        for (PosixFilePermission permission : attributes.permissions()) {
            // OWNER_READ is 0400, down to OTHERS_EXECUTE at 0001: the enum runs in that order.
            mode |= 0400 >> permission.ordinal();
        }
        return mode;
    }

    private record Member(String name, Path path) {}
}
