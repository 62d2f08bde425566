package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.artifact.KeptFile;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.store.Leases;
import io.nomadshell.controlplane.store.PeerDirectory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.security.SecureRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This replica's side of asking another one, the holder of a job's sandbox (its lease's holder), for
 * a way into that sandbox: each request is one TCP connection to the holder's advertised peer
 * address, opened with a signed {@link PeerRequest} and answered with one line ({@code ok ...} or
 * {@code no <why>}). The holder serves it from its own sandboxes only, never asking on, so a request
 * crosses at most one replica. A file a job keeps is asked of the replica serving the artifact store
 * that holds it ({@link #serverOf}), the same way.
 */
final class PeerClient {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** For a tunnel's opening; a service may take {@link JobTunnels#ENSURE_TIMEOUT} and a margin. */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
    /** A file whose next bytes take longer than this to come is given up on (its server stalled). */
    static final Duration FILE_STALL = Duration.ofSeconds(60);
    private static final Logger log = LoggerFactory.getLogger(PeerClient.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Leases leases;
    private final PeerDirectory directory;
    private final PeerSigner signer;
    private final String me;
    private final Clock clock;

    PeerClient(Leases leases, PeerDirectory directory, PeerSigner signer, String me, Clock clock) {
        this.leases = requireNonNull(leases, "leases");
        this.directory = requireNonNull(directory, "directory");
        this.signer = requireNonNull(signer, "signer");
        this.me = requireNonNull(me, "me");
        this.clock = requireNonNull(clock, "clock");
    }

    /**
     * The replica holding the job's sandbox, elsewhere, and where it takes peer requests.
     *
     * @throws JobException UNAVAILABLE when no other replica holds it, or it advertises no address
     */
    Holder holderOf(String jobId) {
        var holder = leases.holder(jobId).orElseThrow(() -> new JobException(Reason.UNAVAILABLE,
                "job " + jobId + " has no running sandbox (it has not started, has ended, or is being taken over "
                        + "by another control plane)"));
        if (holder.equals(me)) {
            // Its sandbox is between streams, or the job has just ended and the lease is about to be given
            // up: asking on would only come back here.
            throw new JobException(Reason.UNAVAILABLE, "job " + jobId + " has no running sandbox attached at the "
                    + "moment (it has just ended, or its sandbox is reconnecting: then try again in a few seconds)");
        }
        var address = directory.addressOf(holder).orElseThrow(() -> new JobException(Reason.UNAVAILABLE,
                "job " + jobId + " runs on control plane " + holder + ", which is not reachable from here "
                        + "(it advertises no peer address: it may have stopped)"));
        return new Holder(holder, address);
    }

    /** Carries {@code client} to {@code port} in the job's sandbox on {@code holder}; closes it if the holder refuses. */
    void carry(Holder holder, String jobId, int port, SocketChannel client) {
        try {
            var peer = open(holder, new PeerRequest(PeerRequest.TUNNEL, jobId, Integer.toString(port), holder.replica(),
                    clock.millis(), nonce()), ANSWER_TIMEOUT);
            Splice.join(client, peer.channel(), "peer-" + jobId + "-" + port);
        } catch (JobException e) {
            log.warn("Could not carry a connection to port {} of job {}: {}", port, jobId, e.getMessage());
            try {
                client.close();
            } catch (IOException ignored) {
                // It is gone either way.
            }
        }
    }

    /** Asks {@code holder} to make sure {@code service} runs in the job's sandbox; returns its port there. */
    int ensureService(Holder holder, String jobId, String service, Duration timeout) {
        var request = new PeerRequest(PeerRequest.ENSURE, jobId, service, holder.replica(), clock.millis(), nonce());
        try (var peer = open(holder, request, timeout.plus(ANSWER_TIMEOUT))) {
            return Integer.parseInt(peer.answer());
        } catch (IOException | NumberFormatException e) {
            throw new JobException(Reason.UNAVAILABLE, "control plane " + holder.replica()
                    + " gave no port for the " + service + " of job " + jobId);
        }
    }

    /**
     * The replica serving artifact store {@code storeId}, which holds {@code file}, and where it takes peer
     * requests.
     *
     * @throws JobException UNAVAILABLE when no replica serves that store now, or it advertises no address
     */
    Holder serverOf(String storeId, KeptFile file) {
        var server = directory.serverOf(storeId).flatMap(replica -> directory.addressOf(replica)
                .map(address -> new Holder(replica, address)));
        return server.orElseThrow(() -> new JobException(Reason.UNAVAILABLE, capitalized(file.words())
                + " is kept on the disk of another control plane (store " + storeId + "), and no control plane "
                + "with that disk is running now: it may have stopped or failed. It can be downloaded again once "
                + "that control plane is back."));
    }

    /**
     * {@code file}, sent by {@code server} as it reads it: the stream's reads wait for the bytes to come,
     * so the file is never held here whole. Close it to end the transfer early.
     *
     * @throws JobException UNAVAILABLE, in words, when the server is unreachable, silent or does not have it
     */
    CarriedFile fetch(Holder server, KeptFile file) {
        var request = new PeerRequest(PeerRequest.FILE, file.jobId(), file.name(), server.replica(), clock.millis(),
                nonce());
        var peer = open(server, request, ANSWER_TIMEOUT, file.words());
        try {
            long bytes = Long.parseLong(peer.answer());
            peer.channel().socket().setSoTimeout((int) FILE_STALL.toMillis());
            return new CarriedFile(bytes, peer.channel(), server.replica(), file);
        } catch (IOException | NumberFormatException e) {
            closeQuietly(peer.channel());
            throw new JobException(Reason.UNAVAILABLE, "control plane " + server.replica() + " did not say how long "
                    + file.words() + " is");
        }
    }

    private static String capitalized(String words) {
        return Character.toUpperCase(words.charAt(0)) + words.substring(1);
    }

    /**
     * A connection to {@code holder} that took {@code request}.
     *
     * @throws JobException UNAVAILABLE, in words, when the holder is unreachable, silent or refuses
     */
    private PeerChannel open(Holder holder, PeerRequest request, Duration answerTimeout) {
        return open(holder, request, answerTimeout, "job " + request.jobId() + "'s sandbox");
    }

    /** {@link #open(Holder, PeerRequest, Duration)} for a request about {@code what} the holder holds. */
    private PeerChannel open(Holder holder, PeerRequest request, Duration answerTimeout, String what) {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open();
            channel.socket().connect(holder.socketAddress(), (int) CONNECT_TIMEOUT.toMillis());
            PeerLines.write(channel, signer.sign(request));
            var answer = PeerLines.read(channel, answerTimeout);
            if (answer.equals("ok") || answer.startsWith("ok ")) {
                return new PeerChannel(channel, answer.substring(2).strip());
            }
            throw new JobException(Reason.UNAVAILABLE, "control plane " + holder.replica() + ", which holds "
                    + what + ", refused: " + answer.replaceFirst("^no ", ""));
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                closeQuietly(channel);
            }
            if (e instanceof JobException refused) {
                throw refused;
            }
            throw new JobException(Reason.UNAVAILABLE, "control plane " + holder.replica() + " at " + holder.address()
                    + ", which holds " + what + ", could not be reached: " + e.getMessage());
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // It is gone either way.
        }
    }

    private static String nonce() {
        var bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** A replica that holds a job's sandbox, and its peer address ({@code host:port}). */
    record Holder(String replica, String address) {
        InetSocketAddress socketAddress() {
            int colon = address.lastIndexOf(':');
            var host = address.substring(0, colon);
            return new InetSocketAddress(host.startsWith("[") ? host.substring(1, host.length() - 1) : host,
                    Integer.parseInt(address.substring(colon + 1)));
        }
    }

    /** A connection a holder took, with what it answered after {@code ok}. */
    private record PeerChannel(SocketChannel channel, String answer) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
