package io.nomadshell.cli;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A job's event stream read at the caller's pace: each event, the stream's end, or its error, in
 * order. Closing it cancels the call, so a follower may stop before the server ends the stream (a
 * paused job's stream may stay open for the message that continues it).
 */
final class EventWatch implements AutoCloseable {
    private static final Object END = new Object();
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile @Nullable ClientCallStreamObserver<WatchJobRequest> call;
    private boolean ended;

    private EventWatch() {}

    /** Starts watching the job's events after {@code after} (0: from the first). */
    static EventWatch open(JobClient client, String jobId, long after) {
        var watch = new EventWatch();
        client.async().watchJob(WatchJobRequest.newBuilder().setJobId(jobId).setAfterSequence(after).build(),
                new ClientResponseObserver<WatchJobRequest, JobEvent>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<WatchJobRequest> stream) {
                        watch.call = stream;
                    }

                    @Override
                    public void onNext(JobEvent event) {
                        watch.queue.add(event);
                    }

                    @Override
                    public void onError(Throwable t) {
                        watch.queue.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        watch.queue.add(END);
                    }
                });
        return watch;
    }

    /** The next event, waiting for it; null once the stream has ended. A failed stream throws its error. */
    @Nullable JobEvent next() throws Exception {
        return next(Long.MAX_VALUE);
    }

    /**
     * The next event, waiting at most {@code millis}; null when none came in time or the stream has
     * ended ({@link #ended()} tells which). A failed stream throws its error.
     */
    @Nullable JobEvent next(long millis) throws Exception {
        if (ended) {
            return null;
        }
        var next = queue.poll(millis, TimeUnit.MILLISECONDS);
        return switch (next) {
            case null -> null;
            case JobEvent event -> event;
            case Exception error -> {
                ended = true;
                throw error;
            }
            case Throwable error -> {
                ended = true;
                throw new IllegalStateException(error);
            }
            default -> {
                ended = true;
                yield null;
            }
        };
    }

    boolean ended() {
        return ended;
    }

    @Override
    public void close() {
        var stream = call;
        if (stream != null && !ended) {
            stream.cancel("the follower stopped", null);
        }
    }
}
