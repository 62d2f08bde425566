package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.proto.v1.PortForwardRequest;
import io.nomadshell.proto.v1.PortForwardResponse;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * One {@code PortForward} call: the first message names the job and port; the call is then pumped
 * to a tunnel bridge of that port. Each inbound message is written before the next is asked for
 * (manual inbound flow control; the write waits while the tunnel has no credit), and outbound data
 * waits while the client's transport is full, so neither side can flood the other. All of it runs
 * on virtual threads: a stalled tunnel never holds a thread of the pool unary calls run on.
 */
final class PortForwardCall implements StreamObserver<PortForwardRequest> {
    /** As large as a tunnel frame: each message costs about the same, whatever it carries. */
    private static final int CHUNK_BYTES = 256 * 1024;
    private static final Executor VIRTUAL = task -> Thread.ofVirtual().name("port-forward-write").start(task);

    private final JobManager jobs;
    private final JobTunnels tunnels;
    private final String owner;
    private final ServerCallStreamObserver<PortForwardResponse> response;
    private final StreamGate gate;
    private volatile @Nullable SocketChannel socket;
    private volatile int port;
    /** The inbound steps, one after another, each on a virtual thread. */
    private CompletableFuture<?> inbound = CompletableFuture.completedFuture(null);

    PortForwardCall(JobManager jobs, JobTunnels tunnels, String owner, ServerCallStreamObserver<PortForwardResponse> response) {
        this.jobs = requireNonNull(jobs, "jobs");
        this.tunnels = requireNonNull(tunnels, "tunnels");
        this.owner = requireNonNull(owner, "owner");
        this.response = requireNonNull(response, "response");
        this.gate = new StreamGate(response, this::close);
        response.disableAutoRequest();
        response.request(1);
    }

    @Override
    public void onNext(PortForwardRequest request) {
        inOrder(() -> {
            if (socket == null) {
                open(request);
                if (socket == null) {
                    return; // refused: the call has ended
                }
            } else {
                write(request.getData());
            }
            response.request(1);
        });
    }

    @Override
    public void onError(Throwable t) {
        close();
    }

    @Override
    public void onCompleted() {
        // The client has nothing more to send; once all it sent is written, the tunnel ends.
        inOrder(this::close);
    }

    private synchronized void inOrder(Runnable step) {
        inbound = inbound.thenRunAsync(() -> {
            try {
                step.run();
            } catch (RuntimeException e) {
                fail(Status.INTERNAL.withDescription("the tunnel to port " + port + " failed: " + e));
                close();
            }
        }, VIRTUAL);
    }

    private void open(PortForwardRequest first) {
        if (first.getJobId().isEmpty() || first.getPort() < 1 || first.getPort() > 65535) {
            fail(Status.INVALID_ARGUMENT.withDescription("the first message must name the job_id and a port from 1 to 65535"));
            return;
        }
        SocketChannel channel;
        try {
            jobs.get(owner, first.getJobId());
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(tunnels.bridge(first.getJobId(), first.getPort())));
        } catch (JobException e) {
            fail(JobStatuses.of(e));
            return;
        } catch (IOException e) {
            fail(Status.UNAVAILABLE.withDescription("could not open a tunnel: " + e.getMessage()));
            return;
        }
        socket = channel;
        port = first.getPort();
        Thread.ofVirtual().name("port-forward-read").start(() -> read(channel));
        write(first.getData());
    }

    private void write(ByteString data) {
        var channel = socket;
        if (channel == null) {
            return;
        }
        try {
            var buffer = data.asReadOnlyByteBuffer();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            // Closing makes the reader fail the call with the reason.
            close();
        }
    }

    private void read(SocketChannel channel) {
        var buffer = ByteBuffer.allocate(CHUNK_BYTES);
        try {
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                gate.awaitReady();
                synchronized (response) {
                    response.onNext(PortForwardResponse.newBuilder().setData(ByteString.copyFrom(buffer)).build());
                }
                buffer.clear();
            }
            complete();
        } catch (IOException e) {
            // The tunnel ended under the reader (closed by us when the client finished, or reset by the
            // bridge as the sandbox side closed): like a TCP peer closing, the call simply ends.
            complete();
        } catch (RuntimeException e) {
            // Anything else is a fault the client must hear of, or it waits forever.
            fail(Status.INTERNAL.withDescription("the tunnel to port " + port + " failed: " + e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
        }
    }

    private void complete() {
        synchronized (response) {
            try {
                response.onCompleted();
            } catch (IllegalStateException alreadyClosed) {
                // The call ended first.
            }
        }
    }

    private void fail(Status status) {
        synchronized (response) {
            try {
                response.onError(status.asRuntimeException());
            } catch (IllegalStateException alreadyClosed) {
                // The call ended first; there is no one left to tell.
            }
        }
    }

    private void close() {
        var channel = socket;
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing is best effort.
            }
        }
    }
}
