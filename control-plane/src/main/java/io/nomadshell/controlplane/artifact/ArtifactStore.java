package io.nomadshell.controlplane.artifact;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.Optional;
import java.security.SecureRandom;

/**
 * What jobs leave on disk, in one directory: a zip per job ({@code <id>.zip}), the screenshots its
 * computer tool took ({@code <id>-screenshots/<call>.png}) and, until its sandbox has unpacked it, the
 * archive its workspace is seeded with ({@code <id>.seed}), and its checkpoints
 * ({@code <id>.checkpoints.git}, see {@link CheckpointRepository}), all removed together when the job's
 * retention has passed. A file becomes visible only once it is whole: it is written under a
 * temporary name and moved into place, and then its {@link Placement} is told.
 *
 * <p>The store has an id of its own ({@value #ID_FILE} in its directory, made by the first replica to
 * use it): replicas that share the directory share the id, and a replica restarted on it keeps it, so
 * the id, recorded with each file, says which replicas can serve that file from their own disk.
 */
public final class ArtifactStore {
    private static final String ID_FILE = ".store-id";

    private final Path directory;
    private final String id;
    private final Placement placement;

    /** A store whose files no other replica asks for: where they are is not recorded. */
    public ArtifactStore(Path directory) throws IOException {
        this(directory, (file, storeId) -> {});
    }

    public ArtifactStore(Path directory, Placement placement) throws IOException {
        this.directory = Files.createDirectories(requireNonNull(directory, "directory"));
        this.placement = requireNonNull(placement, "placement");
        this.id = idOf(this.directory);
    }

    /** This store's id: the same for every replica that shares its directory, across restarts. */
    public String id() {
        return id;
    }

    /** Starts writing the job's zip; nothing is visible until {@link Upload#commit()}. */
    public Upload begin(String jobId) throws IOException {
        var temporary = Files.createTempFile(directory, jobId, ".partial");
        var zip = KeptFile.zip(jobId);
        return new Upload(temporary, pathOf(jobId), Files.newOutputStream(temporary), () -> placement.stored(zip, id));
    }

    /** The file, if this store holds it. */
    public Optional<Path> find(KeptFile file) {
        var path = file.callId().map(call -> screenshotsOf(file.jobId()).resolve(call + ".png"))
                .orElseGet(() -> pathOf(file.jobId()));
        return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
    }

    /** Where the job's seed archive is kept until its sandbox has unpacked it. */
    public Path seedPath(String jobId) {
        return directory.resolve(requireNonNull(jobId, "jobId") + ".seed");
    }

    /** The job's seed archive, if its workspace is still to be seeded. */
    public Optional<Path> seed(String jobId) {
        var path = seedPath(jobId);
        return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
    }

    /** Keeps a screenshot the job's computer tool took in call {@code callId}. */
    public void putScreenshot(String jobId, String callId, byte[] png) throws IOException {
        requireNonNull(png, "png");
        var file = KeptFile.screenshot(jobId, callId)
                .orElseThrow(() -> new IllegalArgumentException("not a call id: " + callId));
        var target = screenshotsOf(jobId).resolve(callId + ".png");
        var temporary = Files.createTempFile(Files.createDirectories(target.getParent()), callId, ".partial");
        try {
            Files.write(temporary, png);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
        placement.stored(file, id);
    }

    /** The job's checkpoints (its repository may not exist yet). */
    public CheckpointRepository checkpoints(String jobId) {
        return new CheckpointRepository(directory.resolve(requireNonNull(jobId, "jobId") + ".checkpoints.git"));
    }

    /** A file for a bundle on its way in or out of the job's checkpoints, beside them (deleted by its user). */
    public Path bundleFile(String jobId) throws IOException {
        return Files.createTempFile(directory, requireNonNull(jobId, "jobId") + "-", ".bundle");
    }

    /** Removes everything the job left here (its zip, its screenshots, its seed, its checkpoints); nothing if it left nothing. */
    public void delete(String jobId) throws IOException {
        checkpoints(jobId).delete();
        Files.deleteIfExists(pathOf(jobId));
        Files.deleteIfExists(seedPath(jobId));
        var screenshots = screenshotsOf(jobId);
        if (Files.isDirectory(screenshots)) {
            try (var files = Files.list(screenshots)) {
                for (var file : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(screenshots);
        }
    }

    private Path pathOf(String jobId) {
        return directory.resolve(requireNonNull(jobId, "jobId") + ".zip");
    }

    private Path screenshotsOf(String jobId) {
        return directory.resolve(requireNonNull(jobId, "jobId") + "-screenshots");
    }

    /** The store's id, made once (by whichever replica gets there first) and then only read. */
    private static String idOf(Path directory) throws IOException {
        var file = directory.resolve(ID_FILE);
        if (!Files.exists(file)) {
            var bytes = new byte[12];
            new SecureRandom().nextBytes(bytes);
            var temporary = Files.createTempFile(directory, ID_FILE, ".partial");
            try {
                Files.writeString(temporary, "as-" + HexFormat.of().formatHex(bytes));
                // A hard link never replaces a file that exists: of two replicas starting at once, one id wins.
                Files.createLink(file, temporary);
            } catch (FileAlreadyExistsException e) {
                // Another replica sharing the directory made it first: its id is ours.
            } finally {
                Files.deleteIfExists(temporary);
            }
        }
        return Files.readString(file, StandardCharsets.US_ASCII).strip();
    }

    /** Told of each file once it is in place, with this store's id: where the replicas record where it is. */
    @FunctionalInterface
    public interface Placement {
        void stored(KeptFile file, String storeId);
    }

    /** A zip being written. Close without commit to discard it. */
    public static final class Upload implements AutoCloseable {
        private final Path temporary;
        private final Path target;
        private final OutputStream out;
        private final Runnable placed;
        private boolean committed;

        private Upload(Path temporary, Path target, OutputStream out, Runnable placed) {
            this.temporary = temporary;
            this.target = target;
            this.out = out;
            this.placed = placed;
        }

        public void write(byte[] bytes) throws IOException {
            out.write(bytes);
        }

        public void commit() throws IOException {
            out.close();
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            committed = true;
            placed.run();
        }

        @Override
        public void close() throws IOException {
            if (!committed) {
                out.close();
                Files.deleteIfExists(temporary);
            }
        }
    }
}
