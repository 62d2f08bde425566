package io.nomadshell.cli;

import io.nomadshell.proto.v1.DownloadArtifactRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.Job;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The client side of a job's life: follow it to its end, then fetch its zip. */
final class JobFollower {
    private JobFollower() {}

    /** Prints the job's events until it ends; returns its final state. */
    static Job follow(JobClient client, String jobId, PrintStream progress) {
        var printer = new ProgressPrinter(progress);
        var events = client.jobs().watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build());
        events.forEachRemaining(printer::print);
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
