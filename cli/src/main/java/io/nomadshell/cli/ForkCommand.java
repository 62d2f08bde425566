package io.nomadshell.cli;

import io.nomadshell.proto.v1.ForkJobRequest;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Starts a new job from a checkpoint of another; prints the new job's id. */
@Command(name = "fork", description = {
        "Start a new job from a job's files and conversation just after a step, in a sandbox of its own;",
        "the original is left as it is. Prints the new job's id."})
final class ForkCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(index = "0", paramLabel = "JOB_ID")
    String jobId = "";

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "TEXT",
            description = "Optional: what the new job should do differently, as its first message.")
    List<String> words = List.of();

    @Mixin
    StepOption step = new StepOption();

    @Option(names = {"-f", "--follow"}, description = "Then follow the new job's events live until it ends or pauses.")
    boolean follow;

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var fork = connection.jobs().forkJob(ForkJobRequest.newBuilder()
                    .setJobId(jobId).setStep(step.step()).setText(String.join(" ", words)).build());
            System.err.println("Job " + fork.getJobId() + " forked from " + jobId + " " + ProgressPrinter.point(step.step()) + ".");
            System.out.println(fork.getJobId());
            return follow ? JobFollower.followAndReport(connection, fork.getJobId(), 0) : 0;
        }
    }
}
