package io.nomadshell.controlplane.egress;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.EgressConnection;
import io.nomadshell.proto.v1.JobEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the connections sandboxes ask for, or refuses them: the host must be on the job's allowlist
 * and within the operator's cap; the name is resolved here, and only to addresses that are not
 * special ({@link SpecialAddresses}) unless the operator allowed them; the connection goes to the
 * address that was checked, so a second lookup cannot point it elsewhere (DNS rebinding). Every
 * attempt, made or refused, is appended to the job's events.
 */
public final class EgressDialer {
    private static final Logger log = LoggerFactory.getLogger(EgressDialer.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** A name with many addresses gets this many connection attempts, so one ask stays bounded in time. */
    private static final int MAX_ATTEMPTS = 3;

    private final EgressPolicy policy;
    private final JobStore store;
    private final Resolver resolver;
    private final Duration connectTimeout;

    /** How names become addresses; the system's resolver outside tests. */
    @FunctionalInterface
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    public EgressDialer(EgressPolicy policy, JobStore store) {
        this(policy, store, InetAddress::getAllByName, CONNECT_TIMEOUT);
    }

    EgressDialer(EgressPolicy policy, JobStore store, Resolver resolver, Duration connectTimeout) {
        this.policy = requireNonNull(policy, "policy");
        this.store = requireNonNull(store, "store");
        this.resolver = requireNonNull(resolver, "resolver");
        this.connectTimeout = requireNonNull(connectTimeout, "connectTimeout");
    }

    /**
     * A connection from job {@code jobId}'s sandbox to {@code host:port}. Blocks while it resolves
     * and connects (at most {@value #MAX_ATTEMPTS} times the connect timeout); call it off shared threads.
     *
     * @throws EgressRefusedException when the policy refuses it or no connection could be made; the
     *     message is for the person reading the proxy's refusal in the sandbox
     */
    public Socket connect(String jobId, String host, int port) throws EgressRefusedException {
        requireNonNull(jobId, "jobId");
        var name = HostPattern.normalize(requireNonNull(host, "host"));
        if (name.isEmpty() || port < 1 || port > 65535) {
            throw refuse(jobId, name, port, "", "'" + host + ":" + port + "' is not a host and port");
        }
        var granted = store.find(jobId).map(job -> job.sandbox().egressAllow()).orElse(List.of());
        var refusal = policy.refusal(name, granted);
        if (refusal.isPresent()) {
            throw refuse(jobId, name, port, "", refusal.get());
        }
        try {
            var socket = dial(name, port);
            record(jobId, name, port, socket.getInetAddress().getHostAddress(), true, "");
            return socket;
        } catch (EgressRefusedException e) {
            record(jobId, name, port, e.address(), false, e.getMessage());
            throw e;
        }
    }

    /**
     * A connection to {@code host:port} (a normalized name or address) at an address that is not
     * special unless the operator allowed it, without a job's allowlist: for the control plane's own
     * fetches on a user's behalf (a git seed). Blocks like {@link #connect}.
     *
     * @throws EgressRefusedException when the name does not resolve, resolves only to refused
     *     addresses, or no connection could be made; the message says which, in words
     */
    public Socket dial(String host, int port) throws EgressRefusedException {
        InetAddress[] resolved;
        try {
            resolved = resolver.resolve(host);
        } catch (UnknownHostException e) {
            throw new EgressRefusedException("egress to " + host + " failed: the name does not resolve", "");
        }
        var usable = Arrays.stream(resolved)
                .filter(address -> SpecialAddresses.kindOf(address).isEmpty() || policy.allowsSpecial(address))
                .limit(MAX_ATTEMPTS)
                .toList();
        if (usable.isEmpty()) {
            var first = resolved[0];
            throw new EgressRefusedException("egress to " + host + " is not allowed: it resolves to "
                    + SpecialAddresses.kindOf(first).orElseThrow() + " (" + first.getHostAddress()
                    + "), which sandboxes may not reach", first.getHostAddress());
        }
        IOException last = null;
        for (var address : usable) {
            var socket = new Socket();
            try {
                socket.connect(new InetSocketAddress(address, port), (int) connectTimeout.toMillis());
                socket.setTcpNoDelay(true);
                return socket;
            } catch (IOException e) {
                last = e;
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // It never connected.
                }
            }
        }
        throw new EgressRefusedException("egress to " + host + ":" + port + " failed: "
                + (last == null ? "no connection" : last.getMessage()), usable.getFirst().getHostAddress());
    }

    private EgressRefusedException refuse(String jobId, String host, int port, String address, String reason) {
        record(jobId, host, port, address, false, reason);
        return new EgressRefusedException(reason, address);
    }

    private void record(String jobId, String host, int port, String address, boolean allowed, String reason) {
        log.info("egress for job {} to {}:{} ({}): {}", jobId, host, port, address.isEmpty() ? "not resolved" : address,
                allowed ? "connected" : reason);
        store.appendEvent(jobId, JobEvent.newBuilder().setEgress(EgressConnection.newBuilder()
                .setHost(host)
                .setPort(Math.max(port, 0))
                .setAddress(address)
                .setAllowed(allowed)
                .setReason(reason)));
    }
}
