package io.nomadshell.controlplane.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.store.AttachLedger;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.tunnel.JupyterTokens;
import io.nomadshell.proto.v1.Claimed;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.Welcome;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Attach service behind its credential check, served in-process, against a real redis-server. */
class AttachServiceTest {
    private static final long WAIT_SECONDS = 10;

    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;

    private final JobTokens tokens = new JobTokens(filled(3), Clock.systemUTC());
    private SessionRegistry sessions;
    private AttachCredentials credentials;
    private final JupyterTokens jupyterTokens = new JupyterTokens(new byte[32]);
    private Server server;
    private ManagedChannel channel;
    private String jobId;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    @BeforeEach
    void serve() throws Exception {
        sessions = new SessionRegistry(Duration.ofSeconds(5), ControlPlaneOptions.DEFAULT_REATTACH_WINDOW);
        var name = InProcessServerBuilder.generateName();
        credentials = new AttachCredentials(tokens, new AttachLedger(connection));
        server = InProcessServerBuilder.forName(name)
                .addService(AttachService.definition(credentials, sessions, jupyterTokens))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        jobId = JobIds.next();
        sessions.expect(jobId);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        sessions.close();
    }

    @Test
    void noCredentialIsUnauthenticated() throws Exception {
        var daemon = Daemon.attach(channel, null);

        assertThat(daemon.refusal()).satisfies(status -> {
            assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(status.getDescription()).startsWith("no Attach credential");
        });
        assertThat(daemon.received).isEmpty();
    }

    @Test
    void aBadSignatureIsUnauthenticated() throws Exception {
        var forged = new JobTokens(filled(4), Clock.systemUTC()).issue(jobId, Instant.now().plusSeconds(600));

        assertRefused(Daemon.attach(channel, "Bearer " + forged), Status.Code.UNAUTHENTICATED, "signature");
    }

    @Test
    void anExpiredCredentialIsUnauthenticated() throws Exception {
        var expired = tokens.issue(jobId, Instant.now().minusSeconds(1));

        assertRefused(Daemon.attach(channel, "Bearer " + expired), Status.Code.UNAUTHENTICATED, "expired");
    }

    @Test
    void aSpentLaunchCredentialIsUnauthenticatedAndTheLiveStreamSurvives() throws Exception {
        var token = tokens.issue(jobId, Instant.now().plusSeconds(600));
        var daemon = Daemon.attach(channel, "Bearer " + token);
        daemon.awaitWelcome();

        assertRefused(Daemon.attach(channel, "Bearer " + token), Status.Code.UNAUTHENTICATED,
                "this launch credential was already used");
        assertStillServes(daemon);
    }

    @Test
    void aSecondAttachWhileOneIsLiveIsAlreadyExistsAndLeavesTheFirstUntouched() throws Exception {
        var first = Daemon.attach(channel, "Bearer " + tokens.issue(jobId, Instant.now().plusSeconds(600)));
        first.awaitWelcome();
        var live = sessions.current(jobId).orElseThrow();

        var second = Daemon.attach(channel, "Bearer " + tokens.issue(jobId, Instant.now().plusSeconds(600)));

        assertRefused(second, Status.Code.ALREADY_EXISTS, "already has a live Attach stream");
        assertThat(sessions.current(jobId)).containsSame(live);
        assertStillServes(first);
    }

    @Test
    void theResumeSecretLetsTheDaemonBackInOnceAndIsReplacedEachTime() throws Exception {
        var first = Daemon.attach(channel, "Bearer " + tokens.issue(jobId, Instant.now().plusSeconds(600)));
        var firstSecret = first.awaitWelcome().getResumeSecret();
        assertThat(firstSecret).hasSizeGreaterThanOrEqualTo(40);
        first.hangUp();
        awaitNoLiveStream();

        var resumed = Daemon.attach(channel, "Resume " + jobId + "." + firstSecret);
        var secondSecret = resumed.awaitWelcome().getResumeSecret();
        assertThat(secondSecret).isNotEqualTo(firstSecret).hasSizeGreaterThanOrEqualTo(40);
        assertStillServes(resumed);
        resumed.hangUp();
        awaitNoLiveStream();

        assertRefused(Daemon.attach(channel, "Resume " + jobId + "." + firstSecret), Status.Code.UNAUTHENTICATED,
                "resume secret is not valid");
        var again = Daemon.attach(channel, "Resume " + jobId + "." + secondSecret);
        again.awaitWelcome();
    }

    @Test
    void aResumeSecretOfAnotherJobOrAGuessIsUnauthenticated() throws Exception {
        var daemon = Daemon.attach(channel, "Bearer " + tokens.issue(jobId, Instant.now().plusSeconds(600)));
        var secret = daemon.awaitWelcome().getResumeSecret();
        daemon.hangUp();
        awaitNoLiveStream();

        assertRefused(Daemon.attach(channel, "Resume jotherjobxxxxxxxxxxxx." + secret), Status.Code.UNAUTHENTICATED,
                "resume secret is not valid");
        assertRefused(Daemon.attach(channel, "Resume " + jobId + ".guess"), Status.Code.UNAUTHENTICATED,
                "resume secret is not valid");
        assertRefused(Daemon.attach(channel, "Resume ns:job:x*." + secret), Status.Code.UNAUTHENTICATED,
                "names no job");
    }

    @Test
    void aPoolMemberAttachesAsItselfAndBecomesTheJobsOnlyByItsClaim() throws Exception {
        var memberId = MemberIds.next();
        sessions.expect(memberId);
        var member = Daemon.attach(channel, "Bearer " + tokens.issue(memberId, Instant.now().plusSeconds(600)));
        var welcome = member.awaitWelcome();
        assertThat(welcome.getJobId()).isEqualTo(memberId);
        assertThat(welcome.getJupyterToken()).as("no job's Jupyter token before a claim").isEmpty();
        assertThat(sessions.current(jobId)).as("the job's session before the claim").isEmpty();
        // What the member holds opens no job's stream.
        assertRefused(Daemon.attach(channel, "Resume " + jobId + "." + welcome.getResumeSecret()),
                Status.Code.UNAUTHENTICATED, "resume secret is not valid");

        var claim = CompletableFuture.runAsync(() -> {
            try {
                new PoolClaims(credentials, sessions, jupyterTokens)
                        .claim(memberId, jobId, Instant.now().plusSeconds(600), Duration.ofSeconds(WAIT_SECONDS));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        var received = member.next();
        assertThat(received.hasClaim()).as("got %s", received).isTrue();
        assertThat(received.getClaim().getJobId()).isEqualTo(jobId);
        assertThat(received.getClaim().getJupyterToken()).isEqualTo(jupyterTokens.of(jobId));
        member.send(DaemonMessage.newBuilder().setClaimed(Claimed.newBuilder().setJobId(jobId)).build());
        claim.get(WAIT_SECONDS, TimeUnit.SECONDS);

        assertThat(sessions.isExpected(memberId)).as("the member once claimed").isFalse();
        assertStillServes(member);
        member.hangUp();
        awaitNoLiveStream();
        var resumed = Daemon.attach(channel, "Resume " + jobId + "." + received.getClaim().getResumeSecret());
        assertThat(resumed.awaitWelcome().getJobId()).isEqualTo(jobId);
    }

    private void awaitNoLiveStream() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (sessions.current(jobId).isPresent()) {
            assertThat(System.nanoTime()).as("the ended stream is dropped").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /** The job's session still carries a tool call to this daemon and its result back. */
    private void assertStillServes(Daemon daemon) throws Exception {
        var session = sessions.current(jobId).orElseThrow();
        var call = ToolCall.newBuilder().setCallId("c-" + System.nanoTime())
                .setExec(ExecAction.newBuilder().setCommand("true")).build();
        var result = session.call(call, event -> {});
        var received = daemon.next();
        assertThat(received.hasToolCall()).as("got %s", received).isTrue();
        daemon.send(DaemonMessage.newBuilder()
                .setToolResult(ToolResult.newBuilder().setCallId(call.getCallId())).build());
        assertThat(result.get(WAIT_SECONDS, TimeUnit.SECONDS).getCallId()).isEqualTo(call.getCallId());
    }

    private static void assertRefused(Daemon daemon, Status.Code code, String because) throws Exception {
        var status = daemon.refusal();
        assertThat(status.getCode()).as("%s", status).isEqualTo(code);
        assertThat(status.getDescription()).contains(because);
        assertThat(daemon.received).as("nothing reaches a refused daemon").isEmpty();
    }

    private static byte[] filled(int value) {
        var bytes = new byte[32];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    /** A daemon's end of one Attach stream, driven by hand. */
    private static final class Daemon implements StreamObserver<ControlMessage> {
        final BlockingQueue<ControlMessage> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Status> ended = new CompletableFuture<>();
        private @Nullable StreamObserver<DaemonMessage> requests;

        static Daemon attach(ManagedChannel channel, @Nullable String authorization) {
            var headers = new Metadata();
            if (authorization != null) {
                headers.put(AttachCredentials.AUTHORIZATION, authorization);
            }
            var daemon = new Daemon();
            daemon.requests = SandboxServiceGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .attach(daemon);
            daemon.send(DaemonMessage.newBuilder().setHello(Hello.newBuilder().setDaemonVersion("test")).build());
            return daemon;
        }

        synchronized void send(DaemonMessage message) {
            requests.onNext(message);
        }

        synchronized void hangUp() {
            requests.onCompleted();
        }

        Welcome awaitWelcome() throws InterruptedException {
            var message = next();
            assertThat(message.hasWelcome()).as("a Welcome first: %s", message).isTrue();
            return message.getWelcome();
        }

        ControlMessage next() throws InterruptedException {
            while (true) {
                var message = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertThat(message).as("a message from the control plane").isNotNull();
                if (!message.hasHeartbeat()) {
                    return message;
                }
            }
        }

        Status refusal() throws Exception {
            return ended.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }

        @Override
        public void onNext(ControlMessage message) {
            received.add(message);
        }

        @Override
        public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ended.complete(Status.OK);
        }
    }
}
