package io.nomadshell.cli;

import com.google.protobuf.util.JsonFormat;
import io.nomadshell.proto.v1.GetJobRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Prints a job as JSON, as {@code GET /status/{id}} would. */
@Command(name = "status", description = "Show a job's state as JSON.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var job = connection.jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
            System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(job));
            return 0;
        }
    }
}
