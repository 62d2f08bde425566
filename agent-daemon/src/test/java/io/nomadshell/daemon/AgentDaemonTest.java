package io.nomadshell.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nomadshell.daemon.TestControlPlane.PeerStream;
import io.nomadshell.daemon.link.LinkOptions;
import io.nomadshell.daemon.tool.Processes;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The whole daemon against a real gRPC peer on a Unix domain socket. */
class AgentDaemonTest {

    private static final String TOKEN = "job-token-7f3a";
    private static final LinkOptions FAST = new LinkOptions(
            Duration.ofSeconds(5), Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(60));

    @TempDir
    Path temp;

    private Path workspace;
    private TestControlPlane plane;

    @BeforeEach
    void setUp() throws Exception {
        workspace = Files.createDirectory(temp.resolve("workspace"));
        plane = new TestControlPlane(temp.resolve("attach.sock"));
    }

    @AfterEach
    void tearDown() throws Exception {
        plane.close();
    }

    private CompletableFuture<Integer> startDaemon(String target, LinkOptions options) {
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        DaemonConfig config = new DaemonConfig(target, TOKEN, workspace, options, null);
        Thread.ofPlatform().daemon().name("daemon-under-test").start(() -> exit.complete(AgentDaemon.run(config)));
        return exit;
    }

    private CompletableFuture<Integer> startDaemon() {
        return startDaemon(plane.target(), FAST);
    }

    private static ToolCall exec(String callId, String command) {
        return ToolCall.newBuilder().setCallId(callId).setExec(ExecAction.newBuilder().setCommand(command)).build();
    }

    private static String stdout(List<ToolEvent> events) {
        StringBuilder text = new StringBuilder();
        events.stream()
                .filter(e -> e.getOutput().getStream() == OutputChunk.Stream.STDOUT)
                .forEach(e -> text.append(e.getOutput().getData().toString(StandardCharsets.UTF_8)));
        return text.toString();
    }

    @Test
    void saysHelloRunsACallAndExitsZeroOnShutdown() throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream stream = plane.nextStream();

        Hello hello = stream.awaitHello();
        assertThat(stream.authorization).as("the launch credential, in the call's metadata").isEqualTo("Bearer " + TOKEN);
        assertThat(hello.getDaemonVersion()).isNotBlank();
        assertThat(hello.getToolsList()).containsExactlyInAnyOrder(
                "exec", "read_file", "write_file", "list_files", "archive",
                "edit_file", "process", "computer", "run_code", "ensure_service", "seed", "checkpoint", "restore");

        stream.welcome(5000);
        stream.call(exec("c1", "echo hello; echo oops >&2; exit 7"));
        List<ToolEvent> events = new ArrayList<>();
        ToolResult result = stream.awaitResult("c1", events);

        assertThat(stdout(events)).isEqualTo("hello\n");
        assertThat(events).anySatisfy(e -> assertThat(e.getOutput().getStream()).isEqualTo(OutputChunk.Stream.STDERR));
        assertThat(result.getError()).isEmpty();
        assertThat(result.getExec().getExitCode()).isEqualTo(7);
        assertThat(result.getExec().getOutput()).contains("hello\n", "oops\n");

        stream.shutdown("job complete");
        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
        assertThat(stream.ended.get(5, TimeUnit.SECONDS).isOk()).as("the daemon half-closed its side").isTrue();
        assertThat(plane.attempts()).isEqualTo(1);
    }

    @Test
    void shutdownKillsTheCommandsStillRunning() throws Exception {
        String marker = Processes.uniqueSleepSeconds();
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream stream = plane.nextStream();
        stream.awaitHello();
        stream.welcome(5000);

        stream.call(exec("long", "sleep " + marker));
        assertThat(Processes.awaitPresent(marker, Duration.ofSeconds(5))).isTrue();
        stream.shutdown("cancelled by the user");

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
        assertThat(Processes.awaitGone(marker, Duration.ofSeconds(3))).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = Status.Code.class, names = {"UNAUTHENTICATED", "PERMISSION_DENIED"})
    void aRefusedTokenExitsThreeWithoutRetrying(Status.Code code) throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream stream = plane.nextStream();
        stream.awaitHello();

        stream.fail(Status.fromCode(code).withDescription("token expired"));

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_REJECTED);
        assertThat(plane.attempts()).isEqualTo(1);
    }

    @Test
    void aDroppedStreamIsRedialedWithTheLatestResumeSecret() throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream first = plane.nextStream();
        first.awaitHello();
        first.welcome(5000, "secret-1");
        first.fail(Status.UNAVAILABLE.withDescription("control plane restarting"));

        PeerStream second = plane.nextStream();
        second.awaitHello();
        assertThat(second.authorization).isEqualTo("Resume job-1.secret-1");
        second.welcome(5000, "secret-2");
        second.fail(Status.UNAVAILABLE.withDescription("again"));

        PeerStream third = plane.nextStream();
        third.awaitHello();
        assertThat(third.authorization).as("the secret of the latest Welcome").isEqualTo("Resume job-1.secret-2");
        third.shutdown("done");

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
        assertThat(plane.attempts()).isEqualTo(3);
    }

    @Test
    void alreadyExistsIsABrokenStreamToRedialNotARefusal() throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream first = plane.nextStream();
        first.awaitHello();
        first.welcome(5000, "secret-1");
        first.fail(Status.UNAVAILABLE.withDescription("connection reset"));

        PeerStream refused = plane.nextStream();
        refused.awaitHello();
        refused.fail(Status.ALREADY_EXISTS.withDescription("job job-1 already has a live Attach stream"));

        PeerStream second = plane.nextStream();
        second.awaitHello();
        assertThat(second.authorization).isEqualTo("Resume job-1.secret-1");
        second.welcome(5000, "secret-2");
        second.shutdown("done");

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
    }

    @Test
    void heartbeatsAndRedialsWhenTheControlPlaneFallsSilent() throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream silent = plane.nextStream();
        silent.awaitHello();
        silent.welcome(100);

        // Three silent intervals (300 ms) later the daemon gives up on this stream.
        Status ended = silent.ended.get(5, TimeUnit.SECONDS);
        assertThat(ended.getCode()).isEqualTo(Status.Code.CANCELLED);
        List<DaemonMessage> sent = silent.drain();
        assertThat(sent).isNotEmpty().allSatisfy(m -> assertThat(m.hasHeartbeat()).isTrue());

        PeerStream second = plane.nextStream();
        second.awaitHello();
        second.shutdown("done");
        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
    }

    @Test
    void aCallThatEndsWhileDisconnectedReportsOnTheNextStream() throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream first = plane.nextStream();
        first.awaitHello();
        first.welcome(5000);
        first.call(exec("c1", "echo early; sleep 0.3; echo late"));
        assertThat(first.awaitEvent().getOutput().getData().toStringUtf8()).isEqualTo("early\n");
        first.fail(Status.UNAVAILABLE.withDescription("replica died"));

        PeerStream second = plane.nextStream();
        second.awaitHello();
        Thread.sleep(1000); // The call ends before this stream is welcomed: its result is held.
        second.welcome(5000);
        ToolResult result = second.awaitResult("c1", new ArrayList<>());

        assertThat(result.getExec().getOutput()).isEqualTo("early\nlate\n");
        second.shutdown("done");
        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
    }

    @Test
    void redialsTheNextReplicaAndACallAskedAgainThereIsAnsweredWithoutRunningTwice() throws Exception {
        try (TestControlPlane other = new TestControlPlane(temp.resolve("other.sock"))) {
            CompletableFuture<Integer> exit = startDaemon(plane.target() + "," + other.target(), FAST);
            PeerStream first = plane.nextStream();
            first.awaitHello();
            first.welcome(5000, "secret-1");
            first.call(exec("s2c0", "sleep 0.3; echo ran >> once.log"));
            first.fail(Status.UNAVAILABLE.withDescription("replica killed"));

            // The other replica does not drive the job yet; the first is gone: each refuses in turn.
            PeerStream notYet = other.nextStream();
            notYet.awaitHello();
            assertThat(notYet.authorization).isEqualTo("Resume job-1.secret-1");
            notYet.fail(Status.FAILED_PRECONDITION.withDescription("job job-1 is not waiting for a sandbox here"));
            PeerStream gone = plane.nextStream();
            gone.awaitHello();
            gone.fail(Status.UNAVAILABLE.withDescription("nobody listens"));

            PeerStream adopter = other.nextStream();
            adopter.awaitHello();
            Thread.sleep(1000); // The call ends before the new owner asks for it again.
            adopter.welcome(5000, "secret-2");
            adopter.call(exec("s2c0", "sleep 0.3; echo ran >> once.log"));
            // Two answers: the result held while no stream was attached, then the one to the repeated call.
            assertThat(adopter.awaitResult("s2c0", new ArrayList<>()).getExec().getExitCode()).isZero();
            assertThat(adopter.awaitResult("s2c0", new ArrayList<>()).getExec().getExitCode()).isZero();
            adopter.call(exec("s3c0", "cat once.log"));
            assertThat(adopter.awaitResult("s3c0", new ArrayList<>()).getExec().getOutput())
                    .as("the call ran once").isEqualTo("ran\n");

            adopter.shutdown("done");
            assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_SHUTDOWN);
        }
    }

    @Test
    void givesUpWithExitFourWhenNoControlPlaneAnswers() throws Exception {
        LinkOptions quickGiveUp = new LinkOptions(
                Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(400), Duration.ofSeconds(1));

        CompletableFuture<Integer> exit = startDaemon("unix://" + temp.resolve("nobody-listens.sock"), quickGiveUp);

        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_UNREACHABLE);
    }

    /** The control plane says how long a replica may take to let the daemon back in, not the daemon's default (a minute). */
    @Test
    void givesUpAfterTheReattachWindowOfItsLastWelcome() throws Exception {
        CompletableFuture<Integer> exit = startDaemon();
        PeerStream first = plane.nextStream();
        first.awaitHello();
        first.welcome(5000, "secret-1", 1000);
        plane.close(); // no replica is left to redial

        assertThat(exit.get(15, TimeUnit.SECONDS)).isEqualTo(AgentDaemon.EXIT_UNREACHABLE);
    }

    @Test
    void aMissingWorkspaceIsAConfigurationError() {
        DaemonConfig config = new DaemonConfig(plane.target(), TOKEN, temp.resolve("missing"), FAST, null);

        assertThat(AgentDaemon.run(config)).isEqualTo(AgentDaemon.EXIT_BAD_CONFIG);
        assertThat(plane.attempts()).isZero();
    }
}
