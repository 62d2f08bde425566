package io.nomadshell.cli;

import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.proto.v1.Seed;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Submits a task, follows it live, and saves its zip. */
@Command(name = "run", description = "Submit a task, follow it live, and save the finished project as a zip.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(arity = "1..*", paramLabel = "TASK", description = "What to build, in plain words.")
    List<String> words = List.of();

    @Option(names = {"-o", "--output"}, description = "Where to save the zip (default: ./<job id>.zip).")
    @Nullable Path output;

    @Option(names = "--seed", paramLabel = "ARCHIVE", defaultValue = "${env:NOMAD_SHELL_SEED}",
            description = "A zip or tar.gz whose files the job's workspace starts with; the task may then be about them (env NOMAD_SHELL_SEED).")
    @Nullable Path seed;

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var request = ScheduleRequest.newBuilder().setTask(String.join(" ", words));
            if (seed != null) {
                var upload = SeedUpload.send(connection, seed);
                System.err.println("Uploaded " + seed + ": " + upload.getFiles() + " files, " + upload.getBytes()
                        + " bytes unpacked.");
                request.setSeed(Seed.newBuilder().setUploadId(upload.getUploadId()));
            }
            return submitAndFollow(connection, request.build(), output);
        }
    }

    /** Shared with the demo: schedule, follow, download; prints the zip's path last. */
    static int submitAndFollow(JobClient connection, ScheduleRequest request, @Nullable Path output) throws Exception {
        var scheduled = connection.jobs().schedule(request);
        System.err.println("Job " + scheduled.getJobId() + " scheduled.");
        var job = JobFollower.follow(connection, scheduled.getJobId(), 0, new ProgressPrinter(System.err));
        if (!job.getStatus().equals("complete")) {
            JobFollower.report(job, System.err);
            return 1;
        }
        var zip = JobFollower.download(connection, job.getJobId(),
                output != null ? output : Path.of(job.getJobId() + ".zip"));
        System.err.printf("Done in %d steps, %d tokens.%n", job.getSteps(), job.getTotalTokens());
        System.out.println(zip);
        return 0;
    }
}
