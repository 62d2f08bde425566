package io.nomadshell.cli;

import com.google.protobuf.util.Timestamps;
import io.nomadshell.proto.v1.ListCheckpointsRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** Lists the steps a job can be rolled back to or forked from. */
@Command(name = "checkpoints", description = "List a job's checkpoints: the steps it can be rolled back to or forked from.")
final class CheckpointsCommand implements Callable<Integer> {
    private static final String ROW = "%-6s %-7s %-22s %s%n";

    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var checkpoints = connection.jobs()
                    .listCheckpoints(ListCheckpointsRequest.newBuilder().setJobId(jobId).build()).getCheckpointsList();
            if (checkpoints.isEmpty()) {
                System.err.println("Job " + jobId + " has no checkpoint yet: one is kept after each step.");
                return 0;
            }
            System.out.printf(ROW, "STEP", "FILES", "CREATED", "COMMIT");
            for (var checkpoint : checkpoints) {
                var created = Timestamps.toString(checkpoint.getCreatedAt()).replaceFirst("\\.\\d+Z$", "Z");
                var commit = checkpoint.getCommit();
                System.out.printf(ROW, checkpoint.getStep(), checkpoint.getFiles(), created,
                        commit.substring(0, Math.min(12, commit.length())));
            }
            return 0;
        }
    }
}
