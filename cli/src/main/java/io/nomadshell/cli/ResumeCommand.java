package io.nomadshell.cli;

import io.nomadshell.proto.v1.ResumeJobRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Goes on with a paused job. */
@Command(name = "resume", description = "Go on with a paused job, in a new sandbox on its workspace and conversation.")
final class ResumeCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Option(names = {"-f", "--follow"}, description = "Then follow the job's events live until it ends or pauses.")
    boolean follow;

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            long after = follow ? JobFollower.newestSequence(connection, jobId) : 0;
            var job = connection.jobs().resumeJob(ResumeJobRequest.newBuilder().setJobId(jobId).build());
            System.out.println(JobFollower.describe(job));
            return follow ? JobFollower.followAndReport(connection, jobId, after) : 0;
        }
    }
}
