package io.nomadshell.proto.seed;

import static java.util.Objects.requireNonNull;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Locale;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.jspecify.annotations.Nullable;

/**
 * Reads a seed archive (zip or tar.gz, told apart by its first bytes) entry by entry and hands each
 * checked entry to a {@link Sink}. Refused, with the entry named: an absolute path, a path that
 * climbs out of the root with {@code ..}, a symbolic or hard link whose target is outside the root,
 * a device, fifo or socket, an encrypted or unreadable entry. The caps are kept while the entries
 * are read: a file's bytes are counted as the sink reads them, so a zip bomb stops at the cap, never
 * after inflating.
 *
 * <p>Paths given to the sink are relative, '/'-separated, normalized and never empty; a link's target
 * is given as written (relative to the link's directory, as a symlink resolves it) for symbolic
 * links, and as a root-relative path for hard links (whose target is an earlier entry).
 */
public final class SeedArchive {
    /** The longest symbolic link target read. */
    private static final int MAX_LINK_TARGET = 4096;
    private static final int S_IFMT = 0170000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFDIR = 0040000;

    /** The two formats, with the names users know them by. */
    public enum Format {
        ZIP("zip"),
        TAR_GZ("tar.gz");

        private final String wireName;

        Format(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** What a read archive held: its format, its regular files and their bytes. */
    public record Summary(Format format, int files, long bytes) {}

    /** Where the checked entries go, in the archive's order. */
    public interface Sink {
        void directory(String path) throws IOException;

        /** A regular file; {@code executable} when its mode gives anyone execute permission. */
        void file(String path, boolean executable, InputStream content) throws IOException;

        void symbolicLink(String path, String target) throws IOException;

        void hardLink(String path, String target) throws IOException;
    }

    /** A sink that only reads each file (to count and check it), for checking an archive without unpacking it. */
    public static final Sink CHECK_ONLY = new Sink() {
        @Override
        public void directory(String path) {}

        @Override
        public void file(String path, boolean executable, InputStream content) throws IOException {
            content.transferTo(OutputStream.nullOutputStream());
        }

        @Override
        public void symbolicLink(String path, String target) {}

        @Override
        public void hardLink(String path, String target) {}
    };

    private final SeedLimits limits;
    private final Sink sink;
    private int entries;
    private int files;
    private long bytes;

    private SeedArchive(SeedLimits limits, Sink sink) {
        this.limits = limits;
        this.sink = sink;
    }

    /**
     * Reads {@code archive} into {@code sink} within {@code limits}.
     *
     * @throws SeedRefusedException if it is not a zip or tar.gz, passes a cap, or holds an entry refused above
     * @throws IOException if the file cannot be read or the sink fails
     */
    public static Summary read(Path archive, SeedLimits limits, Sink sink) throws SeedRefusedException, IOException {
        requireNonNull(archive, "archive");
        var reader = new SeedArchive(requireNonNull(limits, "limits"), requireNonNull(sink, "sink"));
        var format = detect(archive);
        try {
            switch (format) {
                case ZIP -> reader.readZip(archive);
                case TAR_GZ -> reader.readTarGz(archive);
            }
        } catch (SinkFailed e) {
            throw e.getCause();
        } catch (CapPassed e) {
            throw e.refusal;
        } catch (IOException e) {
            // Anything else that failed is the archive's bytes: truncated, corrupt, not what its head says.
            throw new SeedRefusedException("the " + format.wireName() + " archive cannot be read: " + e.getMessage(), false);
        }
        return new Summary(format, reader.files, reader.bytes);
    }

    /** The format by the file's first bytes: zip's "PK", gzip's 1f 8b. */
    public static Format detect(Path archive) throws SeedRefusedException, IOException {
        byte[] head;
        try (var in = Files.newInputStream(archive)) {
            head = in.readNBytes(4);
        }
        if (head.length == 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && head[3] == head[2] + 1) {
            return Format.ZIP;
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            return Format.TAR_GZ;
        }
        throw new SeedRefusedException("the upload is not a zip or tar.gz archive (its first bytes are neither)", false);
    }

    private void readZip(Path archive) throws SeedRefusedException, IOException {
        try (var zip = ZipFile.builder().setPath(archive).get()) {
            for (var entry : Collections.list(zip.getEntriesInPhysicalOrder())) {
                var path = counted(entry.getName());
                if (!zip.canReadEntryData(entry)) {
                    throw refused(entry.getName(), "is encrypted or compressed in a way this server cannot read");
                }
                int type = entry.getPlatform() == ZipArchiveEntry.PLATFORM_UNIX ? entry.getUnixMode() & S_IFMT : 0;
                if (entry.isDirectory() || type == S_IFDIR) {
                    directory(path);
                } else if (type == S_IFLNK) {
                    try (var in = zip.getInputStream(entry)) {
                        symbolicLink(entry.getName(), path, new String(in.readNBytes(MAX_LINK_TARGET), StandardCharsets.UTF_8));
                    }
                } else if (type == 0 || type == S_IFREG) {
                    try (var in = zip.getInputStream(entry)) {
                        file(entry.getName(), path, entry.getSize(), (entry.getUnixMode() & 0111) != 0, in);
                    }
                } else {
                    throw refused(entry.getName(), "is " + specialKind(type) + "; only files, directories and links can seed a workspace");
                }
            }
        }
    }

    private void readTarGz(Path archive) throws SeedRefusedException, IOException {
        try (var tar = new TarArchiveInputStream(new GzipCompressorInputStream(
                new BufferedInputStream(Files.newInputStream(archive))))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                var path = counted(entry.getName());
                if (entry.isDirectory()) {
                    directory(path);
                } else if (entry.isSymbolicLink()) {
                    symbolicLink(entry.getName(), path, entry.getLinkName());
                } else if (entry.isLink()) {
                    var target = linkTarget(entry.getName(), entry.getLinkName(), entry.getLinkName(), "hard");
                    deliver(() -> sink.hardLink(path, target));
                } else if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
                    throw refused(entry.getName(), "is " + (entry.isFIFO() ? "a fifo" : entry.isCharacterDevice()
                            ? "a character device" : "a block device") + "; only files, directories and links can seed a workspace");
                } else if (entry.isFile()) {
                    file(entry.getName(), path, entry.getSize(), (entry.getMode() & 0111) != 0, tar);
                } else {
                    throw refused(entry.getName(), "is of a kind that cannot seed a workspace; only files, directories and links can");
                }
            }
        }
    }

    /** Counts an entry against the cap and returns its checked path. */
    private String counted(String name) throws SeedRefusedException {
        if (++entries > limits.maxEntries()) {
            throw new SeedRefusedException("the archive holds more than " + limits.maxEntries()
                    + " entries, the most this server accepts (at entry '" + name + "')", true);
        }
        var path = name.indexOf('\0') >= 0 ? null : normalize(name);
        if (path == null) {
            throw refused(name, name.startsWith("/") ? "is an absolute path; entries must be relative to the workspace"
                    : "would land outside the workspace");
        }
        return path;
    }

    private void directory(String path) throws IOException {
        if (!path.isEmpty()) {
            deliver(() -> sink.directory(path));
        }
    }

    private void symbolicLink(String name, String path, String target) throws SeedRefusedException, IOException {
        if (path.isEmpty()) {
            throw refused(name, "is a link in place of the workspace itself");
        }
        var parent = path.contains("/") ? path.substring(0, path.lastIndexOf('/') + 1) : "";
        linkTarget(name, parent + target, target, "symbolic");
        deliver(() -> sink.symbolicLink(path, target));
    }

    private void file(String name, String path, long declaredSize, boolean executable, InputStream content)
            throws SeedRefusedException, IOException {
        if (path.isEmpty()) {
            throw refused(name, "is a file in place of the workspace itself");
        }
        if (declaredSize > limits.maxBytes() - bytes) {
            throw tooLarge(name);
        }
        files++;
        deliver(() -> sink.file(path, executable, new Counted(content, name)));
    }

    private SeedRefusedException tooLarge(String name) {
        return new SeedRefusedException("entry '" + name + "' takes the archive past " + describe(limits.maxBytes())
                + " uncompressed, the most this workspace may be seeded with", true);
    }

    /** {@code path} as a normalized root-relative path ("" for the root), or null when it is absolute or climbs out. */
    private static @Nullable String normalize(String path) {
        if (path.startsWith("/") || path.matches("^[A-Za-z]:[\\\\/].*")) {
            return null;
        }
        var parts = new ArrayDeque<String>();
        for (var part : path.split("/")) {
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    return null;
                }
                parts.removeLast();
            } else if (!part.isEmpty() && !part.equals(".")) {
                parts.addLast(part);
            }
        }
        return String.join("/", parts);
    }

    /** A link's target, root-relative, or refused when it leaves the root. */
    private static String linkTarget(String name, String resolved, String written, String kind) throws SeedRefusedException {
        var target = written.isEmpty() || written.indexOf('\0') >= 0 ? null : normalize(resolved);
        if (target == null) {
            throw refused(name, "is a " + kind + " link to '" + written + "', outside the workspace");
        }
        return target;
    }

    private static SeedRefusedException refused(String name, String why) {
        return new SeedRefusedException("entry '" + name + "' " + why, false);
    }

    private static String specialKind(int type) {
        return switch (type) {
            case 0020000 -> "a character device";
            case 0060000 -> "a block device";
            case 0010000 -> "a fifo";
            case 0140000 -> "a socket";
            default -> "of unknown kind " + Integer.toOctalString(type);
        };
    }

    static String describe(long bytes) {
        return bytes % (1024 * 1024) == 0 ? bytes / (1024 * 1024) + " MiB" : String.format(Locale.ROOT, "%,d bytes", bytes);
    }

    /** Hands an entry to the sink; its own failures (a full disk) pass through as they are, not as a malformed archive. */
    private static void deliver(SinkCall call) throws IOException {
        try {
            call.run();
        } catch (CapPassed | Unreadable e) {
            throw e;
        } catch (IOException e) {
            throw new SinkFailed(e);
        }
    }

    @FunctionalInterface
    private interface SinkCall {
        void run() throws IOException;
    }

    /** The sink failed (not the archive): rethrown as its own exception. */
    private static final class SinkFailed extends IOException {
        SinkFailed(IOException cause) {
            super(cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    /** The archive's bytes could not be read while the sink read a file. */
    private static final class Unreadable extends IOException {
        Unreadable(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** A cap passed while a file was read: carried through the sink as an I/O error, then thrown as the refusal. */
    private static final class CapPassed extends IOException {
        final SeedRefusedException refusal;

        CapPassed(SeedRefusedException refusal) {
            super(refusal.getMessage(), null);
            this.refusal = refusal;
        }
    }

    /** A file's content, counted against the total as it is read. */
    private final class Counted extends FilterInputStream {
        private final String name;

        Counted(InputStream in, String name) {
            super(in);
            this.name = name;
        }

        @Override
        public int read() throws IOException {
            int b;
            try {
                b = super.read();
            } catch (IOException e) {
                throw new Unreadable(e);
            }
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n;
            try {
                n = super.read(buffer, offset, length);
            } catch (IOException e) {
                throw new Unreadable(e);
            }
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public void close() {
            // The archive's stream stays open for the next entry.
        }

        private void count(int n) throws CapPassed {
            bytes += n;
            if (bytes > limits.maxBytes()) {
                throw new CapPassed(tooLarge(name));
            }
        }
    }
}
