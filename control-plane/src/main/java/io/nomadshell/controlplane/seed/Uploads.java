package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.proto.seed.SeedArchive;
import io.nomadshell.proto.seed.SeedLimits;
import io.nomadshell.proto.seed.SeedRefusedException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploaded seed archives, one file each in a folder per owner ({@code <dir>/<sha-256 of owner>/<id>}),
 * beside the artifacts so that every replica that shares those shares these. An archive is checked
 * whole ({@link SeedArchive}) before it gets an id; until then it is a temporary file no one can name.
 * To another owner an upload does not exist. A job takes an upload over by moving it to its own
 * seed's path ({@link #claim}); what no job took is deleted once its TTL has passed ({@link #expire}).
 */
public final class Uploads {
    private static final Logger log = LoggerFactory.getLogger(Uploads.class);
    private static final Pattern ID = Pattern.compile("up-[0-9a-f]{24}");
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Headers and compression overhead allowed beyond the unpacked cap, per entry. */
    private static final long ENTRY_OVERHEAD = 1024;

    private final Path directory;
    private final SeedLimits limits;
    private final Duration ttl;
    private final Clock clock;

    public Uploads(Path directory, SeedLimits limits, Duration ttl, Clock clock) throws IOException {
        this.directory = Files.createDirectories(requireNonNull(directory, "directory"));
        this.limits = requireNonNull(limits, "limits");
        this.ttl = requireNonNull(ttl, "ttl");
        this.clock = requireNonNull(clock, "clock");
    }

    /** The caps every upload is checked against. */
    public SeedLimits limits() {
        return limits;
    }

    /** The most bytes an archive may have as sent: its unpacked cap and room for headers. */
    public long maxArchiveBytes() {
        return limits.maxBytes() + limits.maxEntries() * ENTRY_OVERHEAD + ENTRY_OVERHEAD;
    }

    /** Starts receiving an archive for {@code owner}; close the receipt without {@link Receipt#finish()} to drop it. */
    public Receipt receive(String owner) throws IOException {
        var folder = Files.createDirectories(folderOf(requireNonNull(owner, "owner")));
        return new Receipt(folder, Files.createTempFile(folder, "receiving-", ".partial"));
    }

    /**
     * Moves the owner's upload {@code uploadId} to {@code seed} (a job's) after checking it again, within
     * {@code diskBytes} (the job's disk). NOT_FOUND for an upload the owner does not have (or no longer);
     * INVALID_ARGUMENT when it holds more than the disk.
     */
    public SeedArchive.Summary claim(String owner, String uploadId, long diskBytes, Path seed) {
        requireNonNull(seed, "seed");
        var upload = pathOf(owner, uploadId);
        try {
            var contents = SeedArchive.read(upload, limits.atMost(diskBytes), SeedArchive.CHECK_ONLY);
            Files.move(upload, seed, StandardCopyOption.ATOMIC_MOVE);
            return contents;
        } catch (NoSuchFileException e) {
            throw notFound(uploadId);
        } catch (SeedRefusedException e) {
            throw new JobException(Reason.INVALID_ARGUMENT, e.tooLarge()
                    ? "the upload " + uploadId + " does not fit the job's disk of " + diskBytes / (1024 * 1024)
                            + " MiB (ask for more with disk_mb): " + e.getMessage()
                    : e.getMessage());
        } catch (IOException e) {
            throw new JobException(Reason.UNAVAILABLE, "the upload " + uploadId + " cannot be read: " + e.getMessage());
        }
    }

    /** Gives a seed back as the owner's upload, when the job that claimed it was not made after all. */
    public void giveBack(String owner, String uploadId, Path seed) {
        try {
            Files.move(seed, pathOf(owner, uploadId), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes every upload received more than the TTL ago; returns how many. */
    public int expire() throws IOException {
        var oldest = FileTime.from(clock.instant().minus(ttl));
        int deleted = 0;
        try (var owners = Files.list(directory)) {
            for (var folder : (Iterable<Path>) owners::iterator) {
                try (var files = Files.list(folder)) {
                    for (var file : (Iterable<Path>) files::iterator) {
                        if (Files.getLastModifiedTime(file).compareTo(oldest) < 0 && Files.deleteIfExists(file)) {
                            deleted++;
                        }
                    }
                }
            }
        }
        if (deleted > 0) {
            log.info("Deleted {} uploads unused for {}", deleted, ttl);
        }
        return deleted;
    }

    private Path pathOf(String owner, String uploadId) {
        requireNonNull(uploadId, "uploadId");
        if (!ID.matcher(uploadId).matches()) {
            throw notFound(uploadId);
        }
        return folderOf(requireNonNull(owner, "owner")).resolve(uploadId);
    }

    private Path folderOf(String owner) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(owner.getBytes(StandardCharsets.UTF_8));
            return directory.resolve(HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JobException notFound(String uploadId) {
        return new JobException(Reason.NOT_FOUND, "no upload with id '" + uploadId + "'");
    }

    private static JobException refused(SeedRefusedException e) {
        return new JobException(e.tooLarge() ? Reason.TOO_LARGE : Reason.INVALID_ARGUMENT, e.getMessage());
    }

    /** An archive arriving: bytes in, then checked and kept, or refused and gone. */
    public final class Receipt implements AutoCloseable {
        private final Path folder;
        private final Path temporary;
        private final OutputStream out;
        private long received;
        private boolean done;

        private Receipt(Path folder, Path temporary) throws IOException {
            this.folder = folder;
            this.temporary = temporary;
            this.out = Files.newOutputStream(temporary);
        }

        /** Appends bytes; TOO_LARGE once the archive passes {@link #maxArchiveBytes()}. */
        public void write(byte[] bytes, int offset, int length) throws IOException {
            received += length;
            if (received > maxArchiveBytes()) {
                throw new JobException(Reason.TOO_LARGE, "the archive is larger than " + maxArchiveBytes()
                        + " bytes, the most this server accepts (it unpacks at most " + limits.maxBytes() + " bytes)");
            }
            out.write(bytes, offset, length);
        }

        /** Checks the whole archive and keeps it under a new id; refused archives are deleted. */
        public Upload finish() throws IOException {
            out.close();
            if (received == 0) {
                throw new JobException(Reason.INVALID_ARGUMENT, "the upload is empty: send a zip or tar.gz archive");
            }
            SeedArchive.Summary contents;
            try {
                contents = SeedArchive.read(temporary, limits, SeedArchive.CHECK_ONLY);
            } catch (SeedRefusedException e) {
                throw refused(e);
            }
            var id = "up-" + HexFormat.of().formatHex(randomBytes());
            var now = clock.instant();
            Files.setLastModifiedTime(temporary, FileTime.from(now));
            Files.move(temporary, folder.resolve(id), StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return new Upload(id, contents, now.plus(ttl));
        }

        @Override
        public void close() throws IOException {
            if (!done) {
                out.close();
                Files.deleteIfExists(temporary);
            }
        }

        private static byte[] randomBytes() {
            var bytes = new byte[12];
            RANDOM.nextBytes(bytes);
            return bytes;
        }
    }
}
