package io.nomadshell.cli;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.nomadshell.proto.v1.PortForwardRequest;
import io.nomadshell.proto.v1.PortForwardResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import org.jspecify.annotations.Nullable;

/**
 * {@code port-forward}'s engine: listens on a local loopback port and carries each connection to a
 * port inside a job's sandbox over one {@code PortForward} call (and from there a tunnel over the
 * sandbox's Attach stream). Like {@code kubectl port-forward}, but the sandbox has no inbound port.
 */
public final class PortForwarder implements AutoCloseable {
    /** As large as a tunnel frame: each message costs about the same, whatever it carries. */
    private static final int CHUNK_BYTES = 256 * 1024;

    private final JobClient client;
    private final String jobId;
    private final int sandboxPort;
    private final ServerSocket listener;
    private final PrintStream log;

    private PortForwarder(JobClient client, String jobId, int sandboxPort, ServerSocket listener, PrintStream log) {
        this.client = client;
        this.jobId = jobId;
        this.sandboxPort = sandboxPort;
        this.listener = listener;
        this.log = log;
    }

    /**
     * Starts forwarding 127.0.0.1:{@code localPort} (0: any free port) to {@code sandboxPort} of the
     * job; connection problems are reported on {@code log}.
     */
    public static PortForwarder start(String server, @Nullable String apiKey, String jobId, int sandboxPort, int localPort,
            PrintStream log) throws IOException {
        var listener = new ServerSocket();
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), localPort));
        var forwarder = new PortForwarder(new JobClient(requireNonNull(server, "server"), apiKey),
                requireNonNull(jobId, "jobId"), sandboxPort, listener, requireNonNull(log, "log"));
        Thread.ofVirtual().name("port-forward-accept").start(forwarder::accept);
        return forwarder;
    }

    public int localPort() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                var socket = listener.accept();
                // Answers are written as they arrive: Nagle's delay would only hold the last piece back.
                socket.setTcpNoDelay(true);
                Thread.ofVirtual().name("port-forward").start(() -> forward(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void forward(Socket socket) {
        var bridge = new Bridge(socket);
        var requests = (ClientCallStreamObserver<PortForwardRequest>) client.async().portForward(bridge);
        requests.onNext(PortForwardRequest.newBuilder().setJobId(jobId).setPort(sandboxPort).build());
        var buffer = new byte[CHUNK_BYTES];
        try {
            // Not closed here: the answer may still be arriving; the call's end closes the socket.
            InputStream in = socket.getInputStream();
            int read;
            while ((read = in.read(buffer)) >= 0) {
                bridge.awaitReady(requests);
                requests.onNext(PortForwardRequest.newBuilder().setData(ByteString.copyFrom(buffer, 0, read)).build());
            }
            requests.onCompleted();
        } catch (IOException | InterruptedException | RuntimeException e) {
            requests.cancel("the local connection ended", null);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        listener.close();
        client.close();
    }

    /** The answers of one call, written to its local connection; also the call's readiness signal. */
    private final class Bridge implements ClientResponseObserver<PortForwardRequest, PortForwardResponse> {
        private final Socket socket;

        Bridge(Socket socket) {
            this.socket = socket;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<PortForwardRequest> requests) {
            requests.setOnReadyHandler(this::signal);
        }

        synchronized void signal() {
            notifyAll();
        }

        synchronized void awaitReady(ClientCallStreamObserver<PortForwardRequest> requests) throws InterruptedException {
            while (!requests.isReady() && !socket.isClosed()) {
                wait(1_000);
            }
        }

        @Override
        public void onNext(PortForwardResponse response) {
            try {
                // Blocking here is the backpressure: gRPC asks for the next message only after this returns.
                response.getData().writeTo(socket.getOutputStream());
            } catch (IOException e) {
                close();
            }
        }

        @Override
        public void onError(Throwable t) {
            log.println("port-forward: " + NomadShell.message(t));
            close();
        }

        @Override
        public void onCompleted() {
            close();
        }

        private void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Already closed.
            }
            signal();
        }
    }
}
