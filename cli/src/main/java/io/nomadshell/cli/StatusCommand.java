package io.nomadshell.cli;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.util.JsonFormat;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.Job;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Prints a job as JSON, as {@code GET /status/{id}} would. */
@Command(name = "status", description = "Show a job's state as JSON (its status, steps, newest checkpoint, the job it was forked from).")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    /**
     * A fork's step, which may be 0 (before the first step), which JSON would leave out. (A
     * {@code checkpoint_step} of 0 is left out, as in REST: an older server sends 0 for "none".)
     */
    private static Set<FieldDescriptor> shownWhenZero(Job job) {
        return job.getForkedFrom().isEmpty() ? Set.of() : Set.of(Job.getDescriptor().findFieldByName("forked_from_step"));
    }

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var job = connection.jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
            System.out.println(JsonFormat.printer().preservingProtoFieldNames().includingDefaultValueFields(shownWhenZero(job))
                    .print(job));
            return 0;
        }
    }
}
