package io.nomadshell.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Replays a job's events; with {@code -f}, follows them live until the job ends or pauses. */
@Command(name = "logs", description = "Show a job's events: what it recorded so far, or with -f live until it ends or pauses.")
final class LogsCommand implements Callable<Integer> {
    /** Without -f: once the replay is quiet this long, everything recorded so far was shown. */
    private static final long QUIET_MILLIS = 2_000;

    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Option(names = {"-f", "--follow"}, description = "Keep following until the job ends or pauses.")
    boolean follow;

    @Option(names = "--after", description = "Start after this event sequence (default: from the first).")
    long after;

    @Override
    public Integer call() throws Exception {
        if (after < 0) {
            throw new UserError("--after must be 0 or more");
        }
        var printer = new ProgressPrinter(System.out);
        try (var connection = client.connect()) {
            if (follow) {
                var job = JobFollower.follow(connection, jobId, after, printer);
                if (job.getStatus().equals(JobFollower.PAUSED)) {
                    System.out.println(JobFollower.pausedHint(jobId));
                }
                return 0;
            }
            try (var watch = EventWatch.open(connection, jobId, after)) {
                // Every job has at least one event: wait for it however long connecting takes, then for quiet.
                for (var event = watch.next(); event != null; event = watch.next(QUIET_MILLIS)) {
                    printer.print(event);
                }
            }
            return 0;
        }
    }
}
