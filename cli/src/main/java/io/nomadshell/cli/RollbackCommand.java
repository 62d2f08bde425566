package io.nomadshell.cli;

import io.nomadshell.proto.v1.RollbackJobRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Takes a job's files and conversation back to a checkpoint and leaves it paused. */
@Command(name = "rollback", description = {
        "Take a job's files and conversation back to just after a step (one of its checkpoints) and leave it paused;",
        "a running job stops at the end of its current step first."})
final class RollbackCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Mixin
    StepOption step = new StepOption();

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var job = connection.jobs().rollbackJob(RollbackJobRequest.newBuilder().setJobId(jobId).setStep(step.step()).build());
            System.out.println(JobFollower.describe(job));
            if (job.getStatus().equals(JobFollower.PAUSED)) {
                System.err.println(JobFollower.pausedHint(jobId));
            }
            return 0;
        }
    }
}
