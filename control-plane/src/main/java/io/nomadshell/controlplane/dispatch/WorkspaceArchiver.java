package io.nomadshell.controlplane.dispatch;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.agent.ToolRunner;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.artifact.HostZip;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.proto.v1.ArchiveAction;
import io.nomadshell.proto.v1.ToolCall;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.TimeoutException;

/**
 * Puts a job's workspace, zipped, into the artifact store: from its daemon's archive tool (any
 * launcher), or from the host for a local sandbox that has ended. Past {@code maxBytes} nothing more
 * is stored and the zip is refused; an empty workspace is stored only when asked to.
 */
final class WorkspaceArchiver {
    private final ArtifactStore artifacts;

    WorkspaceArchiver(ArtifactStore artifacts) {
        this.artifacts = requireNonNull(artifacts, "artifacts");
    }

    /** What archiving gave. */
    sealed interface Archived {
        record Stored(long bytes, String sha256) implements Archived {}

        /** The workspace held no file, and an empty zip was not wanted. */
        record Empty() implements Archived {}

        /** Nothing stored; the reason in words for a person. */
        record Refused(String reason) implements Archived {}
    }

    /**
     * Asks the daemon for the zip ({@code callId} names the call) and stores it.
     *
     * @param keepEmpty whether a zip without files is stored (a complete job's is; a partial one is not)
     */
    Archived fromDaemon(String jobId, String callId, ToolRunner tools, Duration timeout, long maxBytes, boolean keepEmpty)
            throws InterruptedException, SandboxLostException, IOException {
        try (var upload = new CappedUpload(artifacts.begin(jobId), maxBytes)) {
            var result = tools.run(ToolCall.newBuilder().setCallId(callId)
                    .setArchive(ArchiveAction.getDefaultInstance()).build(), timeout, event -> {
                        if (event.hasArchiveChunk()) {
                            upload.write(event.getArchiveChunk().toByteArray());
                        }
                    });
            upload.stop();
            if (!result.getError().isEmpty()) {
                return new Archived.Refused("the workspace could not be archived: " + result.getError());
            }
            if (upload.overCap()) {
                return upload.refusal();
            }
            var sha256 = upload.sha256();
            if (upload.received() != result.getArchive().getBytes() || !sha256.equals(result.getArchive().getSha256())) {
                return new Archived.Refused("the zip arrived damaged (" + upload.received() + " of "
                        + result.getArchive().getBytes() + " bytes)");
            }
            if (result.getArchive().getFiles() == 0 && !keepEmpty) {
                return new Archived.Empty();
            }
            upload.commit();
            return new Archived.Stored(upload.received(), sha256);
        } catch (TimeoutException e) {
            return new Archived.Refused("the workspace could not be archived within " + words(timeout));
        }
    }

    /** Zips {@code workspace} on this host, for a sandbox whose processes have all ended; never an empty zip. */
    Archived fromHost(String jobId, Path workspace, Duration timeout, long maxBytes) throws IOException {
        try (var upload = new CappedUpload(artifacts.begin(jobId), maxBytes)) {
            int files;
            try (var out = upload.asStream()) {
                files = HostZip.write(workspace, out, Instant.now().plus(timeout));
            } catch (OverCap e) {
                return upload.refusal();
            } catch (TimeoutException e) {
                return new Archived.Refused("the workspace could not be archived within " + words(timeout));
            }
            if (files == 0) {
                return new Archived.Empty();
            }
            upload.commit();
            return new Archived.Stored(upload.received(), upload.sha256());
        }
    }

    static String words(Duration duration) {
        return duration.toSeconds() % 60 == 0 ? duration.toMinutes() + " min" : duration.toSeconds() + " s";
    }

    /** Thrown by {@link CappedUpload#asStream()} past the cap. */
    private static final class OverCap extends IOException {
        OverCap() {
            super("over the cap", null);
        }
    }

    /**
     * An upload that counts and digests what arrives and stores no byte past the cap. Chunks that
     * arrive after {@link #stop()} (a call given up on) are dropped, never written to a closed file.
     */
    private static final class CappedUpload implements AutoCloseable {
        private final ArtifactStore.Upload upload;
        private final long maxBytes;
        private final MessageDigest digest;
        private long received;
        private boolean stopped;

        CappedUpload(ArtifactStore.Upload upload, long maxBytes) {
            this.upload = upload;
            this.maxBytes = maxBytes;
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        synchronized void write(byte[] bytes) {
            if (stopped) {
                return;
            }
            digest.update(bytes);
            received += bytes.length;
            if (received > maxBytes) {
                return; // counted, never stored: refused below
            }
            try {
                upload.write(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        synchronized void stop() {
            stopped = true;
        }

        synchronized boolean overCap() {
            return received > maxBytes;
        }

        synchronized long received() {
            return received;
        }

        synchronized String sha256() {
            return HexFormat.of().formatHex(digest.digest());
        }

        Archived refusal() {
            return new Archived.Refused("the workspace's zip grew past " + (maxBytes >> 20) + " MiB, more than the "
                    + "job's disk holds (a zip stores hard links and sparse files whole)");
        }

        /** The upload as a stream that fails once past the cap (a host zip need not go on). */
        OutputStream asStream() {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] bytes, int offset, int length) throws IOException {
                    CappedUpload.this.write(Arrays.copyOfRange(bytes, offset, offset + length));
                    if (overCap()) {
                        throw new OverCap();
                    }
                }
            };
        }

        synchronized void commit() throws IOException {
            stopped = true;
            upload.commit();
        }

        @Override
        public synchronized void close() throws IOException {
            stopped = true;
            upload.close();
        }
    }
}
