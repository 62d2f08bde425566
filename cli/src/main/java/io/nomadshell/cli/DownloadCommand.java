package io.nomadshell.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Saves a complete job's zip. */
@Command(name = "download", description = "Save a complete job's project as a zip.")
final class DownloadCommand implements Callable<Integer> {
    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(paramLabel = "JOB_ID")
    String jobId = "";

    @Option(names = {"-o", "--output"}, description = "Where to save it (default: ./<job id>.zip).")
    @Nullable Path output;

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            System.out.println(JobFollower.download(connection, jobId, output != null ? output : Path.of(jobId + ".zip")));
            return 0;
        }
    }
}
