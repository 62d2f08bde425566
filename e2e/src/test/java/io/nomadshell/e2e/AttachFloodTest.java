package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.gateway.server.AttachServerOptions;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process in a local (bubblewrap) sandbox, through the model's own exec tool, opens 3000 connections
 * to the mounted Attach socket without a credential (HTTP/2 preface only) and holds them: the Attach
 * listener keeps at most its cap open, the public API keeps answering on fresh connections meanwhile,
 * and the job's own daemon stream survives to complete the job.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AttachFloodTest {
    private static final Pattern OPEN = Pattern.compile("FLOOD_OPEN (\\d+)");
    private static final Pattern CONNECTED = Pattern.compile("connected (\\d+) failed (\\d+)");
    private static final Duration API_ANSWERS_WITHIN = Duration.ofSeconds(5);

    private ScriptedModelServer model;
    private TestCluster cluster;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("attach-flood", tmp, "")).build().start();
        cluster = TestCluster.start(tmp.resolve("server").toAbsolutePath(), model.baseUrl(), 1);
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void aFloodOfConnectionsFromTheSandboxIsCappedAndTheApiKeepsAnswering() throws Exception {
        var rest = cluster.rest();
        var id = rest.schedule("Flood the Attach socket");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(60));

        // While the sandbox floods, the public API is asked again and again, each time on a new connection.
        var failures = new CopyOnWriteArrayList<String>();
        var answered = new CopyOnWriteArrayList<Long>();
        var done = new AtomicBoolean();
        var poller = Executors.newSingleThreadExecutor();
        var polling = poller.submit(() -> {
            var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (!done.get() && System.nanoTime() < deadline) {
                long started = System.nanoTime();
                try (var http = HttpClient.newBuilder().connectTimeout(API_ANSWERS_WITHIN).build()) {
                    var response = http.send(HttpRequest.newBuilder(URI.create(cluster.baseUrl() + "/v1/jobs"))
                            .timeout(API_ANSWERS_WITHIN).GET().build(), HttpResponse.BodyHandlers.ofString());
                    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                    if (response.statusCode() != 200) {
                        failures.add("GET /v1/jobs: " + response.statusCode() + " " + response.body());
                    } else {
                        answered.add(millis);
                    }
                } catch (Exception e) {
                    failures.add("GET /v1/jobs after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                            + " ms: " + e);
                }
                Rest.sleep(200);
            }
        });

        Rest.Polled end;
        try {
            end = rest.awaitEnd(id, Duration.ofSeconds(120));
        } finally {
            done.set(true);
            polling.get(30, TimeUnit.SECONDS);
            poller.shutdownNow();
        }

        var job = end.last();
        assertThat(job.path("status").asText()).as("the job, its daemon's stream untouched: %s", job)
                .isEqualTo("complete");
        var output = Fixtures.unzip(rest.getBytes("/download/" + id).body()).get("flood.txt");
        assertThat(output).as("the flood's report in the zip").isNotNull();
        System.out.printf("AttachFloodTest: %s; GET /v1/jobs answered %d times, slowest %d ms%n", output.strip().replace("\n", "; "),
                answered.size(), answered.stream().mapToLong(Long::longValue).max().orElse(0));
        var connected = CONNECTED.matcher(output);
        assertThat(connected.find()).as("the flood ran: %s", output).isTrue();
        var open = OPEN.matcher(output);
        assertThat(open.find()).as("the flood counted its connections: %s", output).isTrue();
        int held = Integer.parseInt(open.group(1));
        assertThat(held).as("connections the Attach listener still held after 3 s: %s", output)
                .isPositive()
                .isLessThanOrEqualTo(AttachServerOptions.DEFAULT_MAX_CONNECTIONS);

        assertThat(failures).as("the public API while the sandbox flooded Attach").isEmpty();
        assertThat(answered).as("GET /v1/jobs answered while the flood ran").hasSizeGreaterThanOrEqualTo(5);
        assertThat(answered.stream().mapToLong(Long::longValue).max().orElse(0))
                .as("the slowest GET /v1/jobs, ms: %s", List.copyOf(answered))
                .isLessThan(API_ANSWERS_WITHIN.toMillis());
    }
}
