package io.nomadshell.cli;

import io.nomadshell.proto.v1.PauseJobRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Pauses a job: it keeps its workspace, checkpoints and conversation, and gives up its sandbox. */
@Command(name = "pause", description = {
        "Pause a job: a running one stops at the end of its current step, a queued one is held.",
        "It keeps its workspace and conversation; resume it, or say something to it, to go on."})
final class PauseCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var job = connection.jobs().pauseJob(PauseJobRequest.newBuilder().setJobId(jobId).build());
            System.out.println(JobFollower.describe(job));
            return 0;
        }
    }
}
