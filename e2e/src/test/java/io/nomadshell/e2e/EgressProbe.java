package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.nomadshell.proto.v1.EgressConnection;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The egress probe both launchers' tests run: a listener on the host's 127.0.0.1 that answers a
 * marker, a scripted model whose {@code exec} calls reach for it from inside the sandbox (directly,
 * through the egress proxy, and a refused CONNECT), and what came back: the tool outputs the model
 * received and the job's egress events.
 */
final class EgressProbe implements AutoCloseable {
    /** What the host's listener answers; only a connection that really reached it can print it. */
    final String marker = "egress-reached-" + UUID.randomUUID();
    private final HttpServer listener;
    private final ScriptedModelServer model;

    private EgressProbe(HttpServer listener, ScriptedModelServer model) {
        this.listener = listener;
        this.model = model;
    }

    static EgressProbe start(Path temp) throws IOException {
        var listener = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 50);
        var probe = new EgressProbe[1];
        listener.createContext("/", exchange -> {
            var body = (probe[0].marker + "\n").getBytes(UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        listener.start();
        var model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("egress-probe", temp, Integer.toString(listener.getAddress().getPort())))
                .build().start();
        probe[0] = new EgressProbe(listener, model);
        return probe[0];
    }

    String modelBaseUrl() {
        return model.baseUrl();
    }

    int listenerPort() {
        return listener.getAddress().getPort();
    }

    /** Schedules the probe job asking for egress to {@code allow}, waits for its end, and checks it completed. */
    String run(Rest rest, List<String> allow, Duration timeout) {
        var body = Rest.JSON.createObjectNode().put("task", "Probe egress");
        var hosts = body.putObject("egress").putArray("allow");
        allow.forEach(hosts::add);
        var response = rest.post("/schedule", "application/json", body.toString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        var id = Rest.json(response).path("job_id").asText();
        var job = rest.awaitEnd(id, timeout).last();
        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        assertThat(job.path("network").asText()).isEqualTo("none");
        var granted = new ArrayList<String>();
        job.path("egress_allow").forEach(host -> granted.add(host.asText()));
        assertThat(granted).isEqualTo(allow);
        return id;
    }

    /** The outputs of the three exec calls, as the model received them, in order. */
    List<String> toolOutputs() {
        var last = model.receivedRequests().getLast();
        var outputs = new ArrayList<String>();
        for (JsonNode message : last.path("messages")) {
            if (message.path("role").asText().equals("tool")) {
                var content = message.path("content");
                outputs.add(content.isTextual() ? content.asText() : content.toString());
            }
        }
        assertThat(outputs).as("tool messages of %s", last).hasSize(3);
        return outputs;
    }

    /** The job's egress events, in order. */
    static List<EgressConnection> egressEvents(int port, String jobId) {
        var channel = io.grpc.Grpc.newChannelBuilder("127.0.0.1:" + port, io.grpc.InsecureChannelCredentials.create())
                .build();
        try {
            var events = new ArrayList<EgressConnection>();
            JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build())
                    .forEachRemaining(event -> {
                        if (event.getKindCase() == JobEvent.KindCase.EGRESS) {
                            events.add(event.getEgress());
                        }
                    });
            return events;
        } finally {
            channel.shutdownNow();
        }
    }

    @Override
    public void close() {
        model.close();
        listener.stop(0);
    }
}
