package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Heartbeat;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Attach stream turns away anyone without a valid job credential, and only the Attach listener
 * serves it: the public port does not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonTokenTest {
    private ScriptedModelServer model;
    private TestCluster cluster;
    private ManagedChannel channel;
    private ManagedChannel publicPort;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 1);
        channel = Grpc.newChannelBuilder("unix://" + cluster.attachSocket(), InsecureChannelCredentials.create()).build();
        publicPort = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (publicPort != null) publicPort.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    private static final DaemonMessage HELLO =
            DaemonMessage.newBuilder().setHello(Hello.newBuilder().setDaemonVersion("test")).build();

    @Test
    void forgedTokenIsUnauthenticated() throws Exception {
        var ended = attach(channel, "Bearer v2.jaaaaaaaaaaaaaaaaaaaa.9999999999.bm9uY2U.bogus", HELLO);
        assertThat(ended.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(ended.status().getDescription()).contains("signature");
        assertThat(ended.received()).as("no Welcome or tool call before the refusal").isEmpty();
    }

    @Test
    void noCredentialIsUnauthenticated() throws Exception {
        var ended = attach(channel, null, HELLO);
        assertThat(ended.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(ended.received()).isEmpty();
    }

    @Test
    void aGuessedResumeSecretIsUnauthenticated() throws Exception {
        var ended = attach(channel, "Resume jaaaaaaaaaaaaaaaaaaaa.guess", DaemonMessage.newBuilder()
                .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis())).build());
        assertThat(ended.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(ended.received()).isEmpty();
    }

    @Test
    void thePublicPortDoesNotServeAttach() throws Exception {
        var ended = attach(publicPort, null, HELLO);
        assertThat(ended.status().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        assertThat(ended.received()).isEmpty();
    }

    private record Ended(Status status, List<ControlMessage> received) {}

    private Ended attach(ManagedChannel to, @Nullable String authorization, DaemonMessage first) throws Exception {
        var received = new ArrayList<ControlMessage>();
        var result = new CompletableFuture<Status>();
        var headers = new Metadata();
        if (authorization != null) {
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        }
        var stub = SandboxServiceGrpc.newStub(to).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        var requests = stub.attach(new StreamObserver<>() {
            @Override public void onNext(ControlMessage message) {
                synchronized (received) { received.add(message); }
            }
            @Override public void onError(Throwable t) { result.complete(Status.fromThrowable(t)); }
            @Override public void onCompleted() { result.complete(Status.OK); }
        });
        requests.onNext(first);
        try {
            var status = result.get(30, TimeUnit.SECONDS);
            synchronized (received) { return new Ended(status, List.copyOf(received)); }
        } finally {
            requests.onCompleted();
        }
    }
}
