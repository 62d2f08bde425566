package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.egress.EgressRefusedException;
import io.nomadshell.controlplane.egress.HostPattern;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The only way one git fetch reaches the network: a SOCKS5 proxy on loopback (git's
 * {@code http.proxy=socks5h://...}, so curl hands it the name unresolved) that connects only to the
 * repository's own host and port, through {@link EgressDialer#dial}, which resolves the name, refuses
 * special addresses and connects to the address it checked: a second lookup by curl (DNS rebinding)
 * or a redirect to another host never happens. It counts what comes back and cuts every connection
 * once the download passes its cap.
 */
final class FetchProxy implements AutoCloseable {
    private static final int HANDSHAKE_TIMEOUT_MS = 10_000;
    private static final byte SUCCEEDED = 0;
    private static final byte NOT_ALLOWED = 2;
    private static final byte UNREACHABLE = 4;
    private static final byte UNSUPPORTED = 7;

    private final EgressDialer dialer;
    private final String host;
    private final int port;
    private final long maxDownload;
    private final ServerSocket listener;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong downloaded = new AtomicLong();
    private final AtomicReference<String> refusal = new AtomicReference<>();
    private volatile boolean tooLarge;

    FetchProxy(EgressDialer dialer, String host, int port, long maxDownload) throws IOException {
        this.dialer = requireNonNull(dialer, "dialer");
        this.host = requireNonNull(host, "host");
        this.port = port;
        this.maxDownload = maxDownload;
        this.listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().name("git-fetch-proxy").start(this::accept);
    }

    /** The proxy's URL for git's {@code http.proxy}. */
    String url() {
        return "socks5h://127.0.0.1:" + listener.getLocalPort();
    }

    /** Why a connection git asked for was refused or could not be made, in words; empty if none was. */
    Optional<String> refusal() {
        return Optional.ofNullable(refusal.get());
    }

    /** Whether the download passed its cap (and was cut). */
    boolean tooLarge() {
        return tooLarge;
    }

    @Override
    public void close() {
        closeQuietly(listener);
        open.forEach(FetchProxy::closeQuietly);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                var client = listener.accept();
                open.add(client);
                Thread.ofVirtual().name("git-fetch-proxy-conn").start(() -> serve(client));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            client.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
            var in = new DataInputStream(client.getInputStream());
            var out = client.getOutputStream();
            if (in.readUnsignedByte() != 5) {
                return;
            }
            var methods = in.readNBytes(in.readUnsignedByte());
            boolean noAuth = false;
            for (var method : methods) {
                noAuth |= method == 0;
            }
            out.write(new byte[] {5, (byte) (noAuth ? 0 : 0xff)});
            if (!noAuth) {
                return;
            }
            var head = in.readNBytes(4);
            if (head.length < 4 || head[0] != 5) {
                return;
            }
            var asked = switch (head[3]) {
                case 1 -> InetAddress.getByAddress(in.readNBytes(4)).getHostAddress();
                case 4 -> InetAddress.getByAddress(in.readNBytes(16)).getHostAddress();
                case 3 -> new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.US_ASCII);
                default -> null;
            };
            int askedPort = in.readUnsignedShort();
            if (head[1] != 1 || asked == null) {
                reply(out, UNSUPPORTED);
                return;
            }
            if (!sameHost(asked) || askedPort != port) {
                refuse(out, NOT_ALLOWED, "git asked to reach " + asked + ":" + askedPort
                        + ", which is not the repository's host");
                return;
            }
            Socket remote;
            try {
                remote = dialer.dial(HostPattern.normalize(asked), port);
            } catch (EgressRefusedException e) {
                refuse(out, UNREACHABLE, e.getMessage());
                return;
            }
            try (remote) {
                open.add(remote);
                reply(out, SUCCEEDED);
                client.setSoTimeout(0);
                var upstream = Thread.ofVirtual().name("git-fetch-proxy-up").start(() -> pump(in, remote, false));
                pump(remote.getInputStream(), client, true);
                upstream.join();
            } finally {
                open.remove(remote);
            }
        } catch (IOException e) {
            // The client went away mid-handshake, or the proxy was closed.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            open.remove(client);
        }
    }

    private boolean sameHost(String asked) {
        var normalized = HostPattern.normalize(asked);
        if (normalized.equals(host)) {
            return true;
        }
        if (!isLiteral(normalized) || !isLiteral(host)) {
            return false; // one of them is a name, and the names differ
        }
        try {
            // Literals only: no lookup happens.
            return InetAddress.getByName(normalized).equals(InetAddress.getByName(host));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isLiteral(String host) {
        return host.contains(":") || host.matches("[0-9.]+");
    }

    private void refuse(OutputStream out, byte code, String why) throws IOException {
        refusal.compareAndSet(null, why);
        reply(out, code);
    }

    private static void reply(OutputStream out, byte code) throws IOException {
        out.write(new byte[] {5, code, 0, 1, 0, 0, 0, 0, 0, 0});
        out.flush();
    }

    /** Copies until end of stream, then ends the other side's output; counts what comes down. */
    private void pump(InputStream from, Socket to, boolean down) {
        var buffer = new byte[64 * 1024];
        try {
            var out = to.getOutputStream();
            int n;
            while ((n = from.read(buffer)) > 0) {
                if (down && downloaded.addAndGet(n) > maxDownload) {
                    tooLarge = true;
                    close();
                    return;
                }
                out.write(buffer, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(to);
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // Closing is all that is left to do.
        }
    }
}
