package io.nomadshell.controlplane.artifact;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What jobs leave on disk, in one directory: a zip per job ({@code <id>.zip}), the screenshots its
 * computer tool took ({@code <id>-screenshots/<call>.png}) and, until its sandbox has unpacked it, the
 * archive its workspace is seeded with ({@code <id>.seed}), and its checkpoints
 * ({@code <id>.checkpoints.git}, see {@link CheckpointRepository}), all removed together when the job's
 * retention has passed. A file becomes visible only once it is whole: it is written under a
 * temporary name and moved into place.
 */
public final class ArtifactStore {
    private static final Pattern CALL_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private final Path directory;

    public ArtifactStore(Path directory) throws IOException {
        this.directory = Files.createDirectories(requireNonNull(directory, "directory"));
    }

    /** Starts writing the job's zip; nothing is visible until {@link Upload#commit()}. */
    public Upload begin(String jobId) throws IOException {
        var temporary = Files.createTempFile(directory, jobId, ".partial");
        return new Upload(temporary, pathOf(jobId), Files.newOutputStream(temporary));
    }

    /** The job's zip, if it has one. */
    public Optional<Path> find(String jobId) {
        var path = pathOf(jobId);
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
        var target = screenshotPath(jobId, callId)
                .orElseThrow(() -> new IllegalArgumentException("not a call id: " + callId));
        var temporary = Files.createTempFile(Files.createDirectories(target.getParent()), callId, ".partial");
        try {
            Files.write(temporary, png);
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** The screenshot of call {@code callId}, if the job has one (a malformed call id has none). */
    public Optional<byte[]> screenshot(String jobId, String callId) throws IOException {
        var path = screenshotPath(jobId, callId);
        if (path.isEmpty() || !Files.isRegularFile(path.get())) {
            return Optional.empty();
        }
        return Optional.of(Files.readAllBytes(path.get()));
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

    private Optional<Path> screenshotPath(String jobId, String callId) {
        return CALL_ID.matcher(requireNonNull(callId, "callId")).matches()
                ? Optional.of(screenshotsOf(jobId).resolve(callId + ".png"))
                : Optional.empty();
    }

    /** A zip being written. Close without commit to discard it. */
    public static final class Upload implements AutoCloseable {
        private final Path temporary;
        private final Path target;
        private final OutputStream out;
        private boolean committed;

        private Upload(Path temporary, Path target, OutputStream out) {
            this.temporary = temporary;
            this.target = target;
            this.out = out;
        }

        public void write(byte[] bytes) throws IOException {
            out.write(bytes);
        }

        public void commit() throws IOException {
            out.close();
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            committed = true;
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
