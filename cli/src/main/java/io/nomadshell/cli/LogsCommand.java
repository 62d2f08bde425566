package io.nomadshell.cli;

import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Replays a job's events; with {@code -f}, follows them live until the job ends. */
@Command(name = "logs", description = "Show a job's events: what it recorded so far, or with -f live until it ends.")
final class LogsCommand implements Callable<Integer> {
    /** Without -f: once the replay is quiet this long, everything recorded so far was shown. */
    private static final long QUIET_MILLIS = 2_000;

    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Option(names = {"-f", "--follow"}, description = "Keep following until the job ends.")
    boolean follow;

    @Option(names = "--after", description = "Start after this event sequence (default: from the first).")
    long after;

    @Override
    public Integer call() throws Exception {
        if (after < 0) {
            throw new UserError("--after must be 0 or more");
        }
        var printer = new ProgressPrinter(System.out);
        var queue = new LinkedBlockingQueue<Object>();
        try (var connection = client.connect()) {
            connection.async().watchJob(WatchJobRequest.newBuilder().setJobId(jobId).setAfterSequence(after).build(),
                    new StreamObserver<>() {
                        @Override
                        public void onNext(JobEvent event) {
                            queue.add(event);
                        }

                        @Override
                        public void onError(Throwable t) {
                            queue.add(t);
                        }

                        @Override
                        public void onCompleted() {
                            queue.add(Boolean.TRUE);
                        }
                    });
            // Every job has at least one event: wait for it however long connecting takes, then for quiet.
            boolean started = false;
            while (true) {
                var next = follow || !started ? queue.take() : queue.poll(QUIET_MILLIS, TimeUnit.MILLISECONDS);
                started = true;
                switch (next) {
                    case null -> {
                        return 0;
                    }
                    case JobEvent event -> printer.print(event);
                    case Throwable error -> throw error instanceof Exception e ? e : new IllegalStateException(error);
                    default -> {
                        return 0;
                    }
                }
            }
        }
    }
}
