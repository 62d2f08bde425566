package io.nomadshell.controlplane.artifact;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Finished zips in a directory, one file per job. A zip becomes visible only once it is whole:
 * it is written under a temporary name and moved into place.
 */
public final class ArtifactStore {
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

    private Path pathOf(String jobId) {
        return directory.resolve(jobId + ".zip");
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
