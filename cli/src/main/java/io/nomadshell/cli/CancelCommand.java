package io.nomadshell.cli;

import io.nomadshell.proto.v1.CancelJobRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Cancels a job that has not ended. */
@Command(name = "cancel", description = "Cancel a job; its sandbox is stopped.")
final class CancelCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var job = connection.jobs().cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build());
            System.out.println(job.getJobId() + " " + job.getStatus());
            return 0;
        }
    }
}
