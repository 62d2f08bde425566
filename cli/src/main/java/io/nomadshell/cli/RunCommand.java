package io.nomadshell.cli;

import io.nomadshell.proto.v1.GitCredential;
import io.nomadshell.proto.v1.GitSeed;
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
    /** Where a credential for a private --repo comes from: the environment, never the command line. */
    static final String REPO_CREDENTIAL = "NOMAD_SHELL_REPO_CREDENTIAL";

    @Mixin
    ClientOptions client = new ClientOptions();

    @Parameters(arity = "1..*", paramLabel = "TASK", description = "What to build, in plain words.")
    List<String> words = List.of();

    @Option(names = {"-o", "--output"}, description = "Where to save the zip (default: ./<job id>.zip).")
    @Nullable Path output;

    @Option(names = "--seed", paramLabel = "ARCHIVE", defaultValue = "${env:NOMAD_SHELL_SEED}",
            description = "A zip or tar.gz whose files the job's workspace starts with; the task may then be about them (env NOMAD_SHELL_SEED).")
    @Nullable Path seed;

    @Option(names = "--repo", paramLabel = "URL", defaultValue = "${env:NOMAD_SHELL_REPO}",
            description = "An https:// git repository the server fetches for the job's workspace to start with; the task may then be about it (env NOMAD_SHELL_REPO).")
    @Nullable String repo;

    @Option(names = "--ref", paramLabel = "REF", defaultValue = "${env:NOMAD_SHELL_REF}",
            description = "With --repo: the branch, tag or full commit id to start from (default: the repository's default branch; env NOMAD_SHELL_REF).")
    @Nullable String ref;

    @Option(names = "--callback-url", paramLabel = "URL", defaultValue = "${env:NOMAD_SHELL_CALLBACK_URL}",
            description = "POST the job, signed with your API key's webhook secret, to this http(s) URL when it ends; its "
                    + "host must be on the server's --webhook-allow-hosts (env NOMAD_SHELL_CALLBACK_URL).")
    @Nullable String callbackUrl;

    @Option(names = "--callback-events", paramLabel = "WHICH", defaultValue = "${env:NOMAD_SHELL_CALLBACK_EVENTS:-terminal}",
            description = "With --callback-url: 'terminal' (the end) or 'all' (every status change) (env NOMAD_SHELL_CALLBACK_EVENTS; default ${DEFAULT-VALUE}).")
    String callbackEvents = "terminal";

    @Override
    public Integer call() throws Exception {
        try (var connection = client.connect()) {
            var request = ScheduleRequest.newBuilder().setTask(String.join(" ", words));
            if (callbackUrl != null && !callbackUrl.isBlank()) {
                request.setCallbackUrl(callbackUrl.strip()).setCallbackEvents(callbackEvents);
            }
            if (seed != null && repo != null) {
                throw new UserError("give one of --seed and --repo: a job starts from one of them");
            }
            if (ref != null && repo == null) {
                throw new UserError("--ref names a commit of --repo: give --repo too");
            }
            if (repo != null) {
                var git = GitSeed.newBuilder().setUrl(repo).setRef(ref == null ? "" : ref);
                var credential = System.getenv(REPO_CREDENTIAL);
                if (credential != null && !credential.isEmpty()) {
                    int colon = credential.indexOf(':');
                    if (colon < 1) {
                        throw new UserError(REPO_CREDENTIAL + " must be USERNAME:PASSWORD (or USERNAME:TOKEN)");
                    }
                    git.setCredential(GitCredential.newBuilder().setUsername(credential.substring(0, colon))
                            .setPassword(credential.substring(colon + 1)));
                }
                System.err.println("The server fetches " + repo + (ref == null ? "" : " at " + ref) + " for the job.");
                request.setSeed(Seed.newBuilder().setGit(git));
            }
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
