package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.store.PeerDirectory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where other replicas reach the sandboxes attached to this one: a TCP listener on the peer address,
 * advertised in Redis for as long as it runs. Each connection opens with a signed {@link PeerRequest}
 * for this replica, fresh and never seen before; it is then served from this replica's own sandboxes
 * and artifact store only (a request is never passed on), and anything else is answered
 * {@code no <why>} and closed.
 */
public final class PeerListener implements AutoCloseable {
    /** An advertisement outlives a dead replica by at most this; it is renewed three times as often. */
    static final Duration ADVERTISED_FOR = Duration.ofSeconds(30);
    /** How long a stopping replica waits for Redis to take its advertisement back. */
    private static final Duration WITHDRAW_WAIT = Duration.ofSeconds(1);
    /** How long a connection may take to say what it wants. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(PeerListener.class);

    private final ServerSocketChannel server;
    private final JobTunnels tunnels;
    private final KeptFiles files;
    private final PeerSigner signer;
    private final PeerDirectory directory;
    private final String me;
    private final String address;
    private final ScheduledExecutorService renewer =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("peer-advertise").daemon().factory());

    private PeerListener(ServerSocketChannel server, JobTunnels tunnels, KeptFiles files, PeerSigner signer,
            PeerDirectory directory, String me, String address) {
        this.server = server;
        this.tunnels = tunnels;
        this.files = files;
        this.signer = signer;
        this.directory = directory;
        this.me = me;
        this.address = address;
    }

    /**
     * Listens on {@code bind} (port 0: a free one) and advertises it as this replica's peer address, and
     * this replica as a server of its artifact store's files; {@code bind}'s host is what other replicas
     * dial, so it must be one they can reach.
     */
    public static PeerListener start(InetSocketAddress bind, JobTunnels tunnels, KeptFiles files, Peering peering)
            throws IOException {
        requireNonNull(tunnels, "tunnels");
        requireNonNull(files, "files");
        requireNonNull(peering, "peering");
        var server = ServerSocketChannel.open();
        try {
            server.bind(requireNonNull(bind, "bind"));
        } catch (IOException e) {
            server.close();
            throw new IOException("could not listen for other replicas on " + bind + ": " + e.getMessage(), e);
        }
        var bound = (InetSocketAddress) server.getLocalAddress();
        var host = bind.getHostString();
        var listener = new PeerListener(server, tunnels, files, peering.signer(), peering.directory(), peering.replicaId(),
                (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort());
        Thread.ofVirtual().name("peer-accept").start(listener::accept);
        long every = ADVERTISED_FOR.toMillis() / 3;
        listener.renewer.scheduleAtFixedRate(listener::advertise, 0, every, TimeUnit.MILLISECONDS);
        log.info("Other replicas reach this one's sandboxes at {}", listener.address);
        return listener;
    }

    /** The {@code host:port} other replicas dial. */
    public String address() {
        return address;
    }

    private void advertise() {
        try {
            directory.advertise(me, address, ADVERTISED_FOR);
            directory.advertiseStore(files.storeId(), me, ADVERTISED_FOR);
        } catch (RuntimeException e) {
            log.warn("Could not advertise this replica's peer address: {}", e.toString());
        }
    }

    private void accept() {
        while (server.isOpen()) {
            try {
                var peer = server.accept();
                Thread.ofVirtual().name("peer-request").start(() -> serve(peer));
            } catch (IOException e) {
                if (server.isOpen()) {
                    log.warn("The peer listener stopped accepting: {}", e.toString());
                }
                return;
            }
        }
    }

    private void serve(SocketChannel peer) {
        try {
            var request = signer.verify(PeerLines.read(peer, REQUEST_TIMEOUT), me);
            if (!directory.spend(request.nonce(), PeerSigner.FRESH.multipliedBy(2))) {
                throw new PeerRefusedException("the request was seen before");
            }
            switch (request.op()) {
                case PeerRequest.TUNNEL -> {
                    int port = Integer.parseInt(request.argument());
                    // Checked before the answer, so a refusal is said in words; the bytes then flow.
                    var carrier = tunnels.carrierHere(request.jobId(), port);
                    PeerLines.write(peer, "ok");
                    carrier.accept(peer);
                    return;
                }
                case PeerRequest.ENSURE ->
                        PeerLines.write(peer, "ok " + tunnels.ensureServiceHere(request.jobId(), request.argument()));
                case PeerRequest.FILE -> files.serveHere(request.jobId(), request.argument(), peer);
                default -> throw new PeerRefusedException("there is no request '" + request.op() + "'");
            }
        } catch (PeerRefusedException | JobException e) {
            log.info("Refused a request of another replica: {}", e.getMessage());
            answerNo(peer, e.getMessage());
        } catch (NumberFormatException e) {
            answerNo(peer, "the port is not a number");
        } catch (IOException e) {
            log.debug("A peer connection ended before its request was served: {}", e.toString());
        } catch (RuntimeException e) {
            log.warn("A request of another replica failed", e);
            answerNo(peer, "it failed here: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(peer);
    }

    private static void answerNo(SocketChannel peer, String why) {
        try {
            PeerLines.write(peer, "no " + why.replace('\n', ' '));
        } catch (IOException ignored) {
            // The asker has gone; nothing to tell.
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // It is gone either way.
        }
    }

    @Override
    public void close() throws IOException {
        renewer.shutdownNow();
        try {
            directory.withdraw(me, address, WITHDRAW_WAIT);
        } catch (RuntimeException | TimeoutException e) {
            log.debug("Could not withdraw this replica's peer address (it lapses on its own): {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            server.close();
        }
    }
}
