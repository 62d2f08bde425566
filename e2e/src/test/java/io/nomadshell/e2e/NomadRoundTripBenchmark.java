package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.launch.nomad.NomadLauncher;
import io.nomadshell.controlplane.launch.nomad.NomadOptions;
import io.nomadshell.controlplane.session.AttachService;
import io.nomadshell.controlplane.session.DaemonSession;
import io.nomadshell.controlplane.session.AttachCredentials;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.store.AttachLedger;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.controlplane.tunnel.JupyterTokens;
import io.nomadshell.proto.v1.ExecAction;
import io.nomadshell.proto.v1.ToolCall;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tool round trip into a sandbox running on Nomad: {@code exec true} over the Attach stream of
 * the container's daemon, against {@code docker exec <container> true} per call (what orchestrators
 * that drive containers through the engine do), in the same run.
 * Needs the testbed ({@code testbed/nomad-testbed.sh start}).
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=NomadRoundTripBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class NomadRoundTripBenchmark {
    private static final int WARMUP = 200;
    private static final int CALLS = 1000;
    private static final int DOCKER_EXECS = 100;

    @Test
    void execTrueOverAttachVersusDockerExec(@TempDir Path dataDir) throws Exception {
        NomadTestbed.require();
        var prefix = NomadCluster.newJobPrefix();
        var socket = Files.createDirectories(dataDir.resolve("attach")).resolve("attach.sock");
        var secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        var tokens = new JobTokens(secret, Clock.systemUTC());
        var group = new EpollEventLoopGroup(2);
        try (var redis = EmbeddedRedis.start(dataDir.resolve("redis"));
                var connection = RedisConnection.connect(redis.url(), "bench");
                var sessions = new SessionRegistry(Duration.ofSeconds(5), ControlPlaneOptions.DEFAULT_REATTACH_WINDOW)) {
            Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(group).workerEventLoopGroup(group)
                    .addService(AttachService.definition(new AttachCredentials(tokens, new AttachLedger(connection)), sessions,
                            new JupyterTokens(secret)))
                    .build().start();
            try {
                var launcher = NomadLauncher.start(NomadOptions.fromEnv(System.getenv()).token(NomadTestbed.TOKEN).image(NomadTestbed.IMAGE)
                        .attachSocket(socket).jobPrefix(prefix).build(), NomadCluster.RESOURCES.defaults());
                var jobId = "jbenchbenchbenchbench";
                sessions.expect(jobId);
                var resources = new SandboxResources(1000, 512, Duration.ofMinutes(10), java.util.List.of());
                try (var sandbox = launcher.launch(new SandboxSpec(jobId, tokens.issue(jobId, Instant.now().plusSeconds(600)),
                        dataDir, "bench", "round trip benchmark", resources, ""))) {
                    var session = sessions.await(jobId, Duration.ofSeconds(120));
                    for (int i = 0; i < WARMUP; i++) {
                        execTrue(session, "w" + i);
                    }
                    var attach = new long[CALLS];
                    for (int i = 0; i < CALLS; i++) {
                        long start = System.nanoTime();
                        execTrue(session, "c" + i);
                        attach[i] = System.nanoTime() - start;
                    }
                    var containers = NomadTestbed.containers(prefix);
                    assertThat(containers).hasSize(1);
                    var docker = new long[DOCKER_EXECS];
                    for (int i = 0; i < DOCKER_EXECS; i++) {
                        long start = System.nanoTime();
                        var result = NomadTestbed.run(List.of("docker", "exec", containers.get(0), "true"), Duration.ofSeconds(30));
                        docker[i] = System.nanoTime() - start;
                        assertThat(result.exit()).as(result.output()).isZero();
                    }
                    sessions.forget(jobId, "benchmark done");
                    System.out.printf("exec true over Attach into the Nomad sandbox: %s%n", summary(attach));
                    System.out.printf("docker exec <container> true:                 %s%n", summary(docker));
                    System.out.printf("ratio (docker exec / Attach), p50: %.1fx, p99: %.1fx%n",
                            p(docker, 50) / p(attach, 50), p(docker, 99) / p(attach, 99));
                }
            } finally {
                server.shutdown();
                server.awaitTermination(5, TimeUnit.SECONDS);
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                NomadTestbed.assertNothingLeftAndPurge(prefix);
            }
        }
    }

    private static void execTrue(DaemonSession session, String callId) throws Exception {
        var result = session.call(ToolCall.newBuilder().setCallId(callId)
                .setExec(ExecAction.newBuilder().setCommand("true")).build(), event -> {})
                .get(30, TimeUnit.SECONDS);
        assertThat(result.getExec().getExitCode()).isZero();
    }

    private static double p(long[] samples, int percentile) {
        var sorted = samples.clone();
        Arrays.sort(sorted);
        return sorted[Math.max(0, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1)] / 1e6;
    }

    private static String summary(long[] samples) {
        return String.format("p50 %.2f ms, p99 %.2f ms (n=%d)", p(samples, 50), p(samples, 99), samples.length);
    }
}
