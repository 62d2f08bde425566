package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.Checkpoint;
import io.nomadshell.proto.v1.Checkpointed;
import io.nomadshell.proto.v1.ForkJobRequest;
import io.nomadshell.proto.v1.GetJobRequest;
import io.nomadshell.proto.v1.Job;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.ListCheckpointsRequest;
import io.nomadshell.proto.v1.ListCheckpointsResponse;
import io.nomadshell.proto.v1.PauseJobRequest;
import io.nomadshell.proto.v1.ResumeJobRequest;
import io.nomadshell.proto.v1.RollbackJobRequest;
import io.nomadshell.proto.v1.SendMessageRequest;
import io.nomadshell.proto.v1.StatusChanged;
import io.nomadshell.proto.v1.UserMessage;
import io.nomadshell.proto.v1.WatchJobRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The session commands ({@code say}, {@code pause}, {@code resume}, {@code rollback}, {@code fork},
 * {@code checkpoints}) and the follows that end at a pause, against a job service of the test's own
 * on a loopback port: what each sends, what it prints, and the server's refusals in its words.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionCommandsTest {
    private final FakeJobs jobs = new FakeJobs();
    private Server server;

    @BeforeEach
    void start() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(jobs).build().start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void saySendsTheWordsAsOneMessageAndPrintsTheJobsState() {
        jobs.status = "running";

        var run = run("say", "j1", "use", "sqlite,", "not", "postgres");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(jobs.requests).singleElement().isEqualTo(
                SendMessageRequest.newBuilder().setJobId("j1").setText("use sqlite, not postgres").build());
        assertThat(run.out()).isEqualTo("j1 running\n");
    }

    @Test
    void anEmptyMessageIsRefusedBeforeAnyCall() {
        var run = run("say", "j1", " ");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: the message is empty: say what the job should do\n");
        assertThat(jobs.requests).isEmpty();
    }

    @Test
    void theServersRefusalIsPrintedInItsWords() {
        jobs.refusal = Status.FAILED_PRECONDITION.withDescription("job j1 is not paused (it is running)");

        var run = run("resume", "j1");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: job j1 is not paused (it is running)\n");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void aPauseOfARunningJobSaysItWaitsForTheStepToEnd() {
        jobs.status = "running";
        jobs.pauseRequested = true;

        var run = run("pause", "j1");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(jobs.requests).singleElement().isEqualTo(PauseJobRequest.newBuilder().setJobId("j1").build());
        assertThat(run.out()).isEqualTo("j1 running (pausing at the end of its current step)\n");
    }

    @Test
    void rollbackSendsTheStepAndSaysHowToGoOn() {
        jobs.status = "paused";

        var run = run("rollback", "j1", "--step", "12");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(jobs.requests).singleElement()
                .isEqualTo(RollbackJobRequest.newBuilder().setJobId("j1").setStep(12).build());
        assertThat(run.out()).isEqualTo("j1 paused\n");
        assertThat(run.err()).contains("nomad-shell resume j1").contains("nomad-shell say j1");
    }

    @Test
    void aStepIsRequiredAndNotNegative() {
        var missing = run("rollback", "j1");
        var negative = run("fork", "j1", "--step", "-1");
        var notANumber = run("rollback", "j1", "--step", "twelve");

        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).startsWith("Missing required option: '--step=N'");
        assertThat(negative.exitCode()).isEqualTo(1);
        assertThat(negative.err()).isEqualTo("error: --step must be 0 or more\n");
        assertThat(notANumber.exitCode()).isEqualTo(2);
        assertThat(notANumber.err()).contains("'twelve' is not an int");
        assertThat(jobs.requests).isEmpty();
    }

    @Test
    void forkPrintsTheNewJobsIdAloneAndSendsItsFirstMessage() {
        var run = run("fork", "j1", "--step", "0", "try", "sqlite");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(jobs.requests).singleElement().isEqualTo(
                ForkJobRequest.newBuilder().setJobId("j1").setStep(0).setText("try sqlite").build());
        assertThat(run.out()).isEqualTo("jfork\n");
        assertThat(run.err()).contains("jfork forked from j1 before the first step");
    }

    @Test
    void checkpointsAreATableOldestFirst() {
        jobs.checkpoints = List.of(
                Checkpoint.newBuilder().setStep(0).setFiles(3).setCommit("0123456789abcdef0123")
                        .setCreatedAt(Timestamp.newBuilder().setSeconds(1_796_000_000).setNanos(5_000_000)).build(),
                Checkpoint.newBuilder().setStep(12).setFiles(140).setCommit("fedcba9876543210fedc")
                        .setCreatedAt(Timestamp.newBuilder().setSeconds(1_796_000_600)).build());

        var run = run("checkpoints", "j1");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(jobs.requests).singleElement().isEqualTo(ListCheckpointsRequest.newBuilder().setJobId("j1").build());
        assertThat(run.out().lines().toList()).containsExactly(
                "STEP   FILES   CREATED                COMMIT",
                "0      3       2026-11-30T00:53:20Z   0123456789ab",
                "12     140     2026-11-30T01:03:20Z   fedcba987654");
    }

    @Test
    void aJobWithoutCheckpointsSaysSo() {
        var run = run("checkpoints", "j1");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("no checkpoint yet");
    }

    @Test
    void statusShowsAForkFromStepZero() {
        jobs.job = Job.newBuilder().setJobId("j2").setStatus("paused").setForkedFrom("j1").setForkedFromStep(0)
                .setCheckpointStep(4).build();

        var run = run("status", "j2");

        assertThat(run.out()).contains("\"status\": \"paused\"").contains("\"checkpoint_step\": 4")
                .contains("\"forked_from\": \"j1\"").contains("\"forked_from_step\": 0");
    }

    /** The paused job's stream stays open: the follow ends at the pause itself, with how to go on. */
    @Test
    void resumeFollowShowsWhatCameAfterAndEndsAtThePause() {
        jobs.status = "paused";
        jobs.events.addAll(List.of(status(1, "running"), message(2, "first round"), status(3, "paused")));
        jobs.onResume = job -> {
            jobs.events.addAll(List.of(status(4, "running"), checkpointed(5, 7, 9), status(6, "paused")));
            return job;
        };

        var run = run("resume", "j1", "--follow");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).isEqualTo("j1 running\n");
        assertThat(run.err()).doesNotContain("first round")
                .contains("● checkpoint after step 7 (9 files)")
                .contains("Job j1 is paused: go on with nomad-shell resume j1");
        assertThat(jobs.watchedAfter).containsExactly(0L, 3L);
    }

    /** A replay passes an earlier pause: the job has gone on since, so the follow goes on too. */
    @Test
    void anEarlierPauseInTheReplayDoesNotEndTheFollow() {
        jobs.status = "complete";
        jobs.events.addAll(List.of(status(1, "running"), status(2, "paused"), message(3, "go on"),
                status(4, "running"), status(5, "complete")));
        jobs.endStream = true;

        var run = run("logs", "-f", "j1");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("you: go on").contains("● complete").doesNotContain("is paused:");
    }

    @Test
    void sayFollowShowsTheMessageAndTheNewRoundOfAnEndedJob() {
        jobs.status = "complete";
        jobs.events.addAll(List.of(status(1, "running"), status(2, "complete")));
        jobs.endStream = true;
        jobs.onMessage = request -> {
            jobs.events.addAll(List.of(message(3, request.getText()), status(4, "running"), status(5, "complete")));
            return "complete";
        };

        var run = run("say", "j1", "--follow", "add", "tests");

        assertThat(run.exitCode()).as(run.err()).isZero();
        var progress = run.err().lines().toList();
        assertThat(progress).hasSize(4);
        assertThat(progress.get(0)).endsWith("you: add tests");
        assertThat(progress.get(1)).endsWith("● running");
        assertThat(progress.get(2)).endsWith("● complete");
        assertThat(progress.get(3)).isEqualTo("Job j1 complete: nomad-shell download j1");
    }

    private static JobEvent status(long sequence, String status) {
        return JobEvent.newBuilder().setJobId("j1").setSequence(sequence)
                .setStatusChanged(StatusChanged.newBuilder().setStatus(status)).build();
    }

    private static JobEvent message(long sequence, String text) {
        return JobEvent.newBuilder().setJobId("j1").setSequence(sequence)
                .setUserMessage(UserMessage.newBuilder().setText(text)).build();
    }

    private static JobEvent checkpointed(long sequence, int step, int files) {
        return JobEvent.newBuilder().setJobId("j1").setSequence(sequence)
                .setCheckpointed(Checkpointed.newBuilder().setStep(step).setFiles(files)).build();
    }

    private record Run(int exitCode, String out, String err) {}

    /** Runs the command against the fake server; the commands print on System.out and System.err. */
    private Run run(String... args) {
        var all = new ArrayList<>(List.of(args));
        all.add(1, "--server=127.0.0.1:" + server.getPort());
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        var errors = new StringWriter();
        var stdout = System.out;
        var stderr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exitCode = NomadShell.commandLine().setErr(new PrintWriter(errors, true)).execute(all.toArray(String[]::new));
            return new Run(exitCode, out.toString(StandardCharsets.UTF_8), errors + err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    /** One job, "j1", as the test sets it up; what each call asked is kept. */
    private static final class FakeJobs extends JobServiceGrpc.JobServiceImplBase {
        final List<Object> requests = new CopyOnWriteArrayList<>();
        final List<JobEvent> events = new CopyOnWriteArrayList<>();
        final List<Long> watchedAfter = new CopyOnWriteArrayList<>();
        volatile String status = "running";
        volatile boolean pauseRequested;
        volatile boolean endStream;
        volatile Status refusal;
        volatile Job job;
        volatile List<Checkpoint> checkpoints = List.of();
        volatile Function<Job, Job> onResume = Function.identity();
        volatile Function<SendMessageRequest, String> onMessage = request -> status;

        private Job job(String id) {
            return job != null ? job : Job.newBuilder().setJobId(id).setStatus(status).setPauseRequested(pauseRequested).build();
        }

        /** Keeps the request and answers it, unless the test has the server refuse. */
        private <T> void answer(Object request, StreamObserver<T> response, Supplier<T> answer) {
            if (refusal != null) {
                response.onError(refusal.asRuntimeException());
                return;
            }
            requests.add(request);
            response.onNext(answer.get());
            response.onCompleted();
        }

        @Override
        public void getJob(GetJobRequest request, StreamObserver<Job> response) {
            response.onNext(job(request.getJobId()));
            response.onCompleted();
        }

        @Override
        public void sendMessage(SendMessageRequest request, StreamObserver<Job> response) {
            answer(request, response, () -> {
                status = onMessage.apply(request);
                return job(request.getJobId());
            });
        }

        @Override
        public void pauseJob(PauseJobRequest request, StreamObserver<Job> response) {
            answer(request, response, () -> job(request.getJobId()));
        }

        /** The job runs again; what its events say next is the test's (here: it pauses once more). */
        @Override
        public void resumeJob(ResumeJobRequest request, StreamObserver<Job> response) {
            answer(request, response, () -> {
                status = "paused";
                return onResume.apply(Job.newBuilder().setJobId(request.getJobId()).setStatus("running").build());
            });
        }

        @Override
        public void rollbackJob(RollbackJobRequest request, StreamObserver<Job> response) {
            answer(request, response, () -> job(request.getJobId()));
        }

        @Override
        public void forkJob(ForkJobRequest request, StreamObserver<Job> response) {
            answer(request, response, () -> Job.newBuilder().setJobId("jfork").setStatus("pending")
                    .setForkedFrom(request.getJobId()).setForkedFromStep(request.getStep()).build());
        }

        @Override
        public void listCheckpoints(ListCheckpointsRequest request, StreamObserver<ListCheckpointsResponse> response) {
            answer(request, response, () -> ListCheckpointsResponse.newBuilder().addAllCheckpoints(checkpoints).build());
        }

        /** The events after the one asked for; the stream then ends only if the test says so (a paused job's stays open). */
        @Override
        public void watchJob(WatchJobRequest request, StreamObserver<JobEvent> response) {
            watchedAfter.add(request.getAfterSequence());
            events.stream().filter(event -> event.getSequence() > request.getAfterSequence()).forEach(response::onNext);
            if (endStream) {
                response.onCompleted();
            }
        }
    }
}
