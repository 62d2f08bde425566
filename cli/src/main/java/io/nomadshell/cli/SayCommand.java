package io.nomadshell.cli;

import io.nomadshell.proto.v1.SendMessageRequest;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Sends the job's agent a message: a running job reads it at its next step, a paused or ended one goes on with it. */
@Command(name = "say", description = {
        "Tell a job something: a running job reads it at its next step; a paused job, or one that has ended,",
        "goes on with it in a new sandbox on its workspace and conversation."})
final class SayCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(index = "0", paramLabel = "JOB_ID")
    String jobId = "";

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "TEXT", description = "The message, in plain words.")
    List<String> words = List.of();

    @Option(names = {"-f", "--follow"}, description = "Then follow the job's events live until it ends or pauses.")
    boolean follow;

    @Override
    public Integer call() throws Exception {
        var text = String.join(" ", words);
        if (text.isBlank()) {
            throw new UserError("the message is empty: say what the job should do");
        }
        try (var connection = client.connect()) {
            long after = follow ? JobFollower.newestSequence(connection, jobId) : 0;
            var job = connection.jobs().sendMessage(SendMessageRequest.newBuilder().setJobId(jobId).setText(text).build());
            System.out.println(JobFollower.describe(job));
            return follow ? JobFollower.followAndReport(connection, jobId, after) : 0;
        }
    }
}
