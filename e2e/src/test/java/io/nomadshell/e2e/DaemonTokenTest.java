package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The Attach stream turns away anyone without a valid job token. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonTokenTest {
    private ScriptedModelServer model;
    private TestCluster cluster;
    private ManagedChannel channel;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 1);
        channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.port(), InsecureChannelCredentials.create()).build();
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void forgedTokenIsUnauthenticated() throws Exception {
        var ended = attach(DaemonMessage.newBuilder()
                .setHello(Hello.newBuilder().setToken("v1.jaaaaaaaaaaaaaaaaaaaa.9999999999.bogus").setDaemonVersion("test"))
                .build());
        assertThat(ended.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(ended.received()).as("no Welcome or tool call before the refusal").isEmpty();
    }

    @Test
    void firstMessageThatIsNotHelloIsUnauthenticated() throws Exception {
        var ended = attach(DaemonMessage.newBuilder()
                .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(System.currentTimeMillis())).build());
        assertThat(ended.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(ended.received()).isEmpty();
    }

    private record Ended(Status status, List<ControlMessage> received) {}

    private Ended attach(DaemonMessage first) throws Exception {
        var received = new ArrayList<ControlMessage>();
        var result = new CompletableFuture<Status>();
        var requests = SandboxServiceGrpc.newStub(channel).attach(new StreamObserver<>() {
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
