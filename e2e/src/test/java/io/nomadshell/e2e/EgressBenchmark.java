package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.JobServiceGrpc;
import io.nomadshell.proto.v1.WatchJobRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the boundary costs, in one run with the local launcher: (a) a 5 MB download from an HTTP
 * server on the host's loopback, by curl inside the sandbox through the egress proxy (Attach tunnel,
 * control plane's dialer) against the same curl on the host directly; (b) a tool call's round trip,
 * {@code exec true} over Attach as the control plane times it, against running {@code true} on the
 * host. Printed, not asserted.
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=EgressBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class EgressBenchmark {
    private static final int DOWNLOADS = 5;
    private static final int CALLS = 30;
    private static final int SIZE = 5 * 1024 * 1024;

    @Test
    void whatTheBoundaryCosts(@TempDir Path temp) throws Exception {
        var big = new byte[SIZE];
        Arrays.fill(big, (byte) 'x');
        var server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 50);
        server.createContext("/big", exchange -> {
            exchange.sendResponseHeaders(200, big.length);
            exchange.getResponseBody().write(big);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        int port = server.getAddress().getPort();
        // One warm-up download, then DOWNLOADS timed ones, each printing curl's own total time.
        var download = "for i in $(seq 0 " + DOWNLOADS + "); do env -u NO_PROXY -u no_proxy curl -sS -o /dev/null "
                + "-w '%{time_total} %{size_download}\\n' http://localhost:" + port + "/big; done";
        var scenario = scenario(temp, download);
        try (var model = ScriptedModelServer.builder().scenario(scenario).build().start();
                var cluster = TestCluster.start(temp.resolve("server"), model.baseUrl(), options -> options.resources(
                        new ResourcePolicy(ResourcePolicy.DEFAULT.defaults(), ResourcePolicy.DEFAULT.maxCpuMhz(),
                                ResourcePolicy.DEFAULT.minMemoryMb(), ResourcePolicy.DEFAULT.maxMemoryMb(),
                                ResourcePolicy.DEFAULT.maxTimeout(), EgressPolicy.parse("localhost", "127.0.0.0/8"))))) {
            var body = Rest.JSON.createObjectNode().put("task", "benchmark");
            body.putObject("egress").putArray("allow").add("localhost");
            var id = Rest.json(cluster.rest().post("/schedule", "application/json", body.toString())).path("job_id").asText();
            var job = cluster.rest().awaitEnd(id, Duration.ofMinutes(5)).last();
            if (!job.path("status").asText().equals("complete")) {
                throw new AssertionError("the benchmark job did not complete: " + job + "\n" + Fixtures.history(cluster.port(), id));
            }

            var sandboxMs = medianMs(curlTimes(firstToolOutput(model)));
            var hostTimes = new ArrayList<String>();
            for (int i = 0; i <= DOWNLOADS; i++) {
                hostTimes.add(run("curl", "-sS", "-o", "/dev/null", "-w", "%{time_total} %{size_download}",
                        "http://127.0.0.1:" + port + "/big"));
            }
            var hostMs = medianMs(curlTimes(String.join("\n", hostTimes)));
            System.out.printf("5 MB download, median of %d (curl time_total): host direct %.1f ms (%.0f MB/s), "
                            + "sandbox through the egress proxy %.1f ms (%.0f MB/s); ratio %.1fx%n",
                    DOWNLOADS, hostMs, SIZE / 1e3 / hostMs, sandboxMs, SIZE / 1e3 / sandboxMs, sandboxMs / hostMs);

            var attach = execTrueDurations(cluster.port(), id);
            var direct = new double[CALLS];
            for (int i = 0; i < CALLS + 5; i++) {
                long start = System.nanoTime();
                var process = new ProcessBuilder("true").start();
                process.waitFor(10, TimeUnit.SECONDS);
                if (i >= 5) {
                    direct[i - 5] = (System.nanoTime() - start) / 1e6;
                }
            }
            Arrays.sort(direct);
            System.out.printf("tool call round trip (exec true), p50/p90 of %d: over Attach %.1f/%.1f ms "
                            + "(control plane's duration_ms), direct on the host %.2f/%.2f ms; p50 ratio %.0fx%n",
                    attach.length, attach[attach.length / 2], attach[attach.length * 9 / 10],
                    direct[CALLS / 2], direct[CALLS * 9 / 10], attach[attach.length / 2] / direct[CALLS / 2]);
        } finally {
            server.stop(0);
        }
    }

    /** The download, then CALLS times exec true, then finish. */
    private static Scenario scenario(Path temp, String download) throws Exception {
        var turns = Rest.JSON.createArrayNode();
        turns.addObject().putArray("tool_calls").addObject().put("name", "exec").putObject("arguments")
                .put("command", download);
        for (int i = 0; i < CALLS + 3; i++) {
            // A different comment each time, or the stuck detector ends a job that repeats itself.
            turns.addObject().putArray("tool_calls").addObject().put("name", "exec").putObject("arguments")
                    .put("command", "true # " + i);
        }
        turns.addObject().putArray("tool_calls").addObject().put("name", "finish").putObject("arguments")
                .put("summary", "done");
        var scenario = Rest.JSON.createObjectNode().put("name", "egress-benchmark");
        scenario.set("turns", turns);
        var file = Files.writeString(temp.resolve("egress-benchmark.json"), scenario.toString());
        return Scenario.load(file);
    }

    private static String firstToolOutput(ScriptedModelServer model) {
        for (JsonNode message : model.receivedRequests().getLast().path("messages")) {
            if (message.path("role").asText().equals("tool")) {
                return message.path("content").isTextual() ? message.path("content").asText() : message.path("content").toString();
            }
        }
        throw new AssertionError("no tool output reached the model");
    }

    /** curl's time_total of each full-size line, the first (warm-up) dropped. */
    private static double[] curlTimes(String output) {
        var times = new ArrayList<Double>();
        for (var line : output.split("\n")) {
            var parts = line.strip().split(" ");
            if (parts.length == 2 && parts[1].equals(Integer.toString(SIZE))) {
                times.add(Double.parseDouble(parts[0]) * 1000);
            }
        }
        if (times.size() != DOWNLOADS + 1) {
            throw new AssertionError("expected " + (DOWNLOADS + 1) + " downloads of " + SIZE + " bytes in:\n" + output);
        }
        return times.subList(1, times.size()).stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    private static double medianMs(double[] sorted) {
        return sorted[sorted.length / 2];
    }

    /** duration_ms of the exec true calls (the download's call and the first three dropped), sorted. */
    private static double[] execTrueDurations(int port, String jobId) {
        var channel = io.grpc.Grpc.newChannelBuilder("127.0.0.1:" + port, io.grpc.InsecureChannelCredentials.create())
                .build();
        try {
            var durations = new ArrayList<Long>();
            JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build())
                    .forEachRemaining(event -> {
                        if (event.getKindCase() == JobEvent.KindCase.TOOL_FINISHED) {
                            durations.add(event.getToolFinished().getDurationMs());
                        }
                    });
            // The download, three warm-up calls, then CALLS timed ones (finish is no sandbox call).
            return durations.subList(4, Math.min(durations.size(), 4 + CALLS)).stream()
                    .mapToDouble(Long::doubleValue).sorted().toArray();
        } finally {
            channel.shutdownNow();
        }
    }

    private static String run(String... command) throws Exception {
        var process = new ProcessBuilder(command).redirectErrorStream(true).start();
        var output = new String(process.getInputStream().readAllBytes(), UTF_8);
        process.waitFor(60, TimeUnit.SECONDS);
        return output;
    }
}
