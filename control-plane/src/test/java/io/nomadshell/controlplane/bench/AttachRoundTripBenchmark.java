package io.nomadshell.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ToolCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code exec true} over the Attach stream of a running sandbox, against starting a fresh sandbox
 * with the same isolation and limits for each command (what a per-command sandbox costs).
 * Run: {@code ./mvnw -pl control-plane test -Dtest=AttachRoundTripBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class AttachRoundTripBenchmark {
    private static final int WARMUP = 200;
    private static final int CALLS = 1000;
    private static final int FRESH_SANDBOXES = 100;

    @TempDir
    Path dataDir;

    @Test
    void execTrueOverAttachVersusFreshSandbox() throws Exception {
        try (var stack = AttachStack.start(dataDir)) {
            var attach = measureAttach(stack.sessions, stack.tokens, stack.socket);
            var fresh = SandboxFixture.bwrapTrue(dataDir, stack.socket, FRESH_SANDBOXES);
            System.out.println("exec true over Attach:        " + attach);
            System.out.println("fresh bwrap sandbox per call: " + fresh);
            System.out.printf("ratio (fresh sandbox / Attach), p50: %.1fx, p99: %.1fx%n",
                    fresh.millis(50) / attach.millis(50), fresh.millis(99) / attach.millis(99));
            assertThat(attach.millis(50)).isPositive();
        }
    }

    private Percentiles measureAttach(SessionRegistry sessions, JobTokens tokens, Path socket) throws Exception {
        var jobId = "jbenchbenchbenchbench";
        var workspace = Files.createDirectories(dataDir.resolve("workspace"));
        sessions.expect(jobId);
        try (var sandbox = SandboxFixture.daemonLauncher(dataDir, socket)
                .launch(new SandboxSpec(jobId, tokens.issue(jobId, Instant.now().plusSeconds(600)), workspace))) {
            var session = sessions.await(jobId, Duration.ofSeconds(60));
            for (int i = 0; i < WARMUP; i++) {
                execTrue(session, "w" + i);
            }
            var samples = new long[CALLS];
            for (int i = 0; i < CALLS; i++) {
                long start = System.nanoTime();
                execTrue(session, "c" + i);
                samples[i] = System.nanoTime() - start;
            }
            sessions.forget(jobId, "benchmark done");
            return new Percentiles(samples);
        }
    }

    private static void execTrue(DaemonSession session, String callId) throws Exception {
        var result = session.call(ToolCall.newBuilder().setCallId(callId)
                .setExec(ExecAction.newBuilder().setCommand("true")).build(), event -> {})
                .get(30, TimeUnit.SECONDS);
        assertThat(result.getExec().getExitCode()).isZero();
    }
}
