package io.nomadshell.cli;

import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.Job;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.TimeUnit;

/** The client side of a job's life: follow it to its end (or a pause), then fetch its zip. */
final class JobFollower {
    static final String PAUSED = "paused";
    /** A replay that is quiet this long has shown what the job recorded so far. */
    private static final long QUIET_MILLIS = 500;
    /** How long a look at a job's recorded events may take: a running job's stream is never quiet. */
    private static final long LOOK_MILLIS = 3_000;

    private JobFollower() {}

    /**
     * Prints the job's events after {@code after} until it ends, or pauses, and returns its state
     * then. A paused job's stream may stay open (a message continues it), so a {@code paused} status
     * ends the follow when the job still is paused; one from an earlier pause in a replay does not.
     */
    static Job follow(JobClient client, String jobId, long after, ProgressPrinter printer) throws Exception {
        try (var watch = EventWatch.open(client, jobId, after)) {
            for (var event = watch.next(); event != null; event = watch.next()) {
                printer.print(event);
                if (event.getStatusChanged().getStatus().equals(PAUSED)) {
                    var job = get(client, jobId);
                    if (job.getStatus().equals(PAUSED)) {
                        return job;
                    }
                }
            }
            return get(client, jobId);
        }
    }

    /**
     * The sequence of the newest event the job has recorded so far (0 for none), for a follow that
     * shows only what comes after an action; a running job's events that arrive meanwhile may be
     * shown too.
     */
    static long newestSequence(JobClient client, String jobId) throws Exception {
        long newest = 0;
        try (var watch = EventWatch.open(client, jobId, 0)) {
            // Every job has an event: wait for the first as long as connecting takes, then for quiet.
            var event = watch.next();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LOOK_MILLIS);
            while (event != null) {
                newest = event.getSequence();
                if (System.nanoTime() > deadline) {
                    break;
                }
                event = watch.next(QUIET_MILLIS);
            }
        }
        return newest;
    }

    /**
     * Says how a followed job stands now that the follow is over, and returns the command's exit
     * code: 0 for a complete or paused job, 1 for one that failed or was cancelled.
     */
    static int report(Job job, PrintStream out) {
        switch (job.getStatus()) {
            case "complete" -> {
                out.println("Job " + job.getJobId() + " complete: nomad-shell download " + job.getJobId());
                return 0;
            }
            case PAUSED -> {
                out.println(pausedHint(job.getJobId()));
                return 0;
            }
            default -> {
                out.println("Job " + job.getJobId() + " ended " + job.getStatus()
                        + (job.getError().isEmpty() ? "" : ": " + job.getError()));
                if (job.getArtifactPartial()) {
                    out.println("What it left in its workspace is kept as a partial zip (" + job.getArtifactBytes()
                            + " bytes): nomad-shell download " + job.getJobId());
                }
                return 1;
            }
        }
    }

    /**
     * For a command that acted on a job with {@code --follow}: prints the job's events after
     * {@code after} on stderr until it ends or pauses, says how it stands, returns the exit code.
     */
    static int followAndReport(JobClient client, String jobId, long after) throws Exception {
        return report(follow(client, jobId, after, new ProgressPrinter(System.err)), System.err);
    }

    /** A job in one line: its id and status, and a pause that waits for the current step to end. */
    static String describe(Job job) {
        return job.getJobId() + " " + job.getStatus()
                + (job.getPauseRequested() ? " (pausing at the end of its current step)" : "");
    }

    static String pausedHint(String jobId) {
        return "Job " + jobId + " is paused: go on with nomad-shell resume " + jobId
                + ", or tell it something with nomad-shell say " + jobId + " \"...\"";
    }

    static Job get(JobClient client, String jobId) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
    }

    /** Streams the job's zip to {@code target} (written whole, then moved into place). */
    static Path download(JobClient client, String jobId, Path target) throws IOException {
        var absolute = target.toAbsolutePath();
        var partial = absolute.resolveSibling(absolute.getFileName() + ".partial");
        try (var out = Files.newOutputStream(partial)) {
            var chunks = client.jobs().downloadArtifact(DownloadArtifactRequest.newBuilder().setJobId(jobId).build());
            while (chunks.hasNext()) {
                chunks.next().getData().writeTo(out);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        return Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING);
    }
}
