package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxSpec;
import io.nomadshell.controlplane.spawn.ParentBoundSpawner;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.server.AttachServer;
import io.nomadshell.gateway.server.AttachServerOptions;
import io.nomadshell.gateway.server.AttachTls;
import io.nomadshell.gateway.preview.PreviewOptions;
import io.nomadshell.gateway.server.GatewayOptions;
import io.nomadshell.gateway.server.GatewayServer;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attach over TCP is TLS only: a real daemon (the jar, as a process on this host, the way a sandbox
 * on another node runs it) dials 127.0.0.1 over TLS trusting the CA the control plane made under its
 * data dir, and runs a job to completion; a plaintext client and a client trusting another CA get no
 * further than the handshake.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttachTlsTest {
    private final List<Process> daemons = new CopyOnWriteArrayList<>();
    private Path dataDir;
    private ScriptedModelServer model;
    private ControlPlane controlPlane;
    private AttachServer attach;
    private GatewayServer gateway;
    private InetSocketAddress tlsAddress;
    private AttachTls tls;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        dataDir = tmp.resolve("server").toAbsolutePath();
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        controlPlane = ControlPlane.start(ControlPlaneOptions.builder()
                .dataDir(dataDir)
                .launcher(this::launchOnThisHost)
                .model(new ModelOptions(model.baseUrl(), "test", "scripted", 2))
                .maxRunning(1)
                .build());
        tls = AttachTls.generated(dataDir.resolve("tls"), List.of("127.0.0.1"));
        attach = AttachServer.start(controlPlane, new AttachServerOptions(dataDir.resolve("attach/attach.sock"),
                new InetSocketAddress("127.0.0.1", 0), tls));
        tlsAddress = attach.tlsAddress();
        gateway = GatewayServer.start(controlPlane, new GatewayOptions(0, ApiKeys.none(),
                new PreviewOptions(0, PreviewOptions.DEFAULT_DOMAIN)));
    }

    @AfterAll
    void stop() {
        if (controlPlane != null) controlPlane.stopAcceptingJobs();
        if (gateway != null) gateway.close();
        if (attach != null) attach.close();
        if (controlPlane != null) controlPlane.close();
        if (model != null) model.close();
        daemons.forEach(Process::destroyForcibly);
    }

    @Test
    void theControlPlaneMadeItsCaAndKeysUnderTheDataDir() throws Exception {
        var dir = dataDir.resolve("tls");
        assertThat(tls.ca()).isEqualTo(dir.resolve("attach-ca.pem"));
        for (var key : List.of("attach-ca.key", "attach-server.key")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(key))))
                    .as(key).isEqualTo("rw-------");
        }
        var again = AttachTls.generated(dir, List.of("127.0.0.1"));
        assertThat(Files.readString(again.ca())).as("the CA is kept across starts").isEqualTo(Files.readString(tls.ca()));
        assertThat(Files.readString(again.certificate())).as("and so is a certificate that still fits")
                .isEqualTo(Files.readString(tls.certificate()));
    }

    @Test
    void aRealDaemonAttachesOverTlsAndTheJobCompletes() {
        var rest = new Rest("http://127.0.0.1:" + gateway.port(), null);
        var id = rest.schedule(Fixtures.HELLO_TASK);
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("%s", job).isEqualTo("complete");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body())).containsEntry("hello.py", Fixtures.HELLO_PY);
    }

    @Test
    void aPlaintextClientIsRefused() throws Exception {
        var status = attemptAttach(InsecureChannelCredentials.create());
        assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void aClientTrustingAnotherCaIsRefused(@TempDir Path other) throws Exception {
        var otherCa = AttachTls.generated(other, List.of("127.0.0.1")).ca();
        var status = attemptAttach(TlsChannelCredentials.newBuilder().trustManager(otherCa.toFile()).build());
        assertThat(status.getCode()).as("%s", status).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(status.getCause()).as("the handshake fails: the server's certificate is not trusted")
                .isInstanceOf(SSLHandshakeException.class);
    }

    /** An Attach call with no credential: behind a good handshake it would be UNAUTHENTICATED. */
    private Status attemptAttach(ChannelCredentials credentials) throws Exception {
        var channel = Grpc.newChannelBuilder("127.0.0.1:" + tlsAddress.getPort(), credentials).build();
        try {
            var ended = new CompletableFuture<Status>();
            var requests = SandboxServiceGrpc.newStub(channel).attach(new StreamObserver<ControlMessage>() {
                @Override public void onNext(ControlMessage message) { ended.complete(Status.OK); }
                @Override public void onError(Throwable t) { ended.complete(Status.fromThrowable(t)); }
                @Override public void onCompleted() { ended.complete(Status.OK); }
            });
            requests.onNext(DaemonMessage.newBuilder().setHello(Hello.newBuilder().setDaemonVersion("probe")).build());
            return ended.get(30, TimeUnit.SECONDS);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Runs the daemon jar as a plain process dialing the TLS port, its token on standard input. */
    private Sandbox launchOnThisHost(SandboxSpec spec) throws LaunchException {
        var builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-jar", TestCluster.daemonJar().toString())
                .redirectErrorStream(true)
                .redirectOutput(dataDir.resolve(spec.jobId() + ".log").toFile());
        var env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("NOMAD_SHELL_"));
        env.put("NOMAD_SHELL_ATTACH", "127.0.0.1:" + tlsAddress.getPort());
        env.put("NOMAD_SHELL_ATTACH_CA", tls.ca().toString());
        env.put("NOMAD_SHELL_WORKSPACE", spec.workspace().toString());
        try {
            var process = ParentBoundSpawner.startKilledWithParent(builder, "the daemon");
            daemons.add(process);
            try (var stdin = process.getOutputStream()) {
                stdin.write((spec.token() + "\n").getBytes(US_ASCII));
            }
            return new Sandbox() {
                @Override public String jobId() { return spec.jobId(); }
                @Override public Optional<String> exitReason() {
                    return process.isAlive() ? Optional.empty() : Optional.of("the daemon exited " + process.exitValue());
                }
                @Override public void close() { process.destroyForcibly(); }
            };
        } catch (IOException e) {
            throw new LaunchException("the daemon could not be started: " + e.getMessage(), e);
        }
    }
}
