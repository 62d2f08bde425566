package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.artifact.KeptFile;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.store.JobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The files jobs keep (zips, screenshots), from any replica: from this replica's own artifact store
 * when it holds the file, else from the replica serving the store the job's hash names
 * ({@link JobStore#placementOf}), which sends it over the peer link ({@link PeerListener}). Replicas
 * that share a data dir share a store, and a replica restarted on its data dir serves its files again.
 * Who may read which job's files is the caller's to check.
 */
public final class KeptFiles {
    private final ArtifactStore artifacts;
    private final JobStore store;
    private final PeerClient peers;

    public KeptFiles(ArtifactStore artifacts, JobStore store, Peering peering) {
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.store = requireNonNull(store, "store");
        this.peers = requireNonNull(peering, "peering").client();
    }

    /**
     * {@code file}, wherever it is kept; empty when no store holds it (it was never kept, or is no
     * longer). Close what it returns.
     *
     * @throws JobException UNAVAILABLE, in words, when the replica that has it is not running or cannot send it
     */
    public Optional<Found> open(KeptFile file) {
        var here = artifacts.find(file);
        if (here.isPresent()) {
            return Optional.of(new Here(here.get()));
        }
        var storeId = store.placementOf(file).filter(id -> !id.equals(artifacts.id()));
        return storeId.map(id -> peers.fetch(peers.serverOf(id, file), file));
    }

    /**
     * Sends {@code name} of the job from this replica's store to another replica: {@code ok <bytes>}, then
     * the bytes, as fast as the asker reads them.
     */
    void serveHere(String jobId, String name, SocketChannel peer) throws IOException {
        // Signed by a replica that checked both, but they become a path here: checked again.
        var file = KeptFile.named(jobId, name).filter(named -> JobIds.isWellFormed(jobId))
                .orElseThrow(() -> new JobException(Reason.INVALID_ARGUMENT, "there is no kept file '" + name
                        + "' of job '" + jobId + "'"));
        var path = artifacts.find(file).orElseThrow(() -> new JobException(Reason.NOT_FOUND,
                file.words() + " is not kept by this control plane"));
        try (var channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            PeerLines.write(peer, "ok " + size);
            long sent = 0;
            while (sent < size) {
                sent += channel.transferTo(sent, size - sent, peer);
            }
        }
    }

    /** The id of this replica's artifact store, which it advertises as serving. */
    String storeId() {
        return artifacts.id();
    }

    /** A kept file, found: its bytes, to read once. */
    public sealed interface Found extends AutoCloseable permits Here, CarriedFile {
        InputStream open() throws IOException;

        @Override
        void close() throws IOException;
    }

    /** A file in this replica's own store. */
    public record Here(Path path) implements Found {
        @Override
        public InputStream open() throws IOException {
            return Files.newInputStream(path);
        }

        @Override
        public void close() {}
    }
}
