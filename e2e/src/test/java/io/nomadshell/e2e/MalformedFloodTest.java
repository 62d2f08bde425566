package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 malformed requests of the kinds that once wedged the server (invalid targets, {@code ..},
 * {@code %00}, bad percent-encoding, over-long segments, odd methods, random bytes, huge headers, deep
 * JSON), from 20 connections at once over raw sockets, with good requests among them: each bad one
 * gets its 4xx at once (garbage may get its connection closed instead), every good one its 200, and
 * the server still stops promptly.
 */
class MalformedFloodTest {
    private static final int CONNECTIONS = 20;
    private static final int REQUESTS = 10_000;
    private static final int GOOD_EVERY = 25;
    private static final Duration BOUND = Duration.ofMinutes(5);
    private static final int READ_TIMEOUT_MS = 10_000;

    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void badRequestsGetTheir4xxAndGoodOnesAreStillAnswered(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 1);
        var job = cluster.rest().schedule(Fixtures.HELLO_TASK);
        cluster.rest().awaitEnd(job, Duration.ofSeconds(90));
        var port = cluster.port();
        var kinds = kinds(job);

        var counts = new ConcurrentHashMap<String, AtomicInteger>();
        var wrong = new ConcurrentLinkedQueue<String>();
        var next = new AtomicInteger();
        var started = System.nanoTime();
        try (var pool = Executors.newFixedThreadPool(CONNECTIONS)) {
            var workers = new ArrayList<Future<?>>();
            for (int w = 0; w < CONNECTIONS; w++) {
                long seed = w;
                workers.add(pool.submit(() -> {
                    var random = new Random(seed);
                    for (int n = next.getAndIncrement(); n < REQUESTS && System.nanoTime() - started < BOUND.toNanos();
                            n = next.getAndIncrement()) {
                        if (n % GOOD_EVERY == 0) {
                            var status = exchange(port, good(job));
                            count(counts, "good " + status);
                            if (status != 200) {
                                wrong.add("good request got " + status);
                            }
                            continue;
                        }
                        var kind = kinds.get(random.nextInt(kinds.size()));
                        var status = exchange(port, kind.request().apply(random.nextInt()));
                        count(counts, kind.name() + " " + status);
                        var ok = (status >= 400 && status < 500) || (kind.mayClose() && status == CLOSED);
                        if (!ok) {
                            wrong.add(kind.name() + " got " + (status == TIMED_OUT ? "no answer in 10 s" : status));
                        }
                    }
                    return null;
                }));
            }
            for (var worker : workers) {
                worker.get(BOUND.toMillis() + 60_000, TimeUnit.MILLISECONDS);
            }
        }
        var elapsed = Duration.ofNanos(System.nanoTime() - started);
        System.out.printf("%d malformed and good requests from %d connections in %d ms: %s%n",
                next.get(), CONNECTIONS, elapsed.toMillis(), new java.util.TreeMap<>(counts));
        assertThat(next.get()).as("all requests sent within %s", BOUND).isGreaterThanOrEqualTo(REQUESTS);
        assertThat(wrong).as("requests answered otherwise than expected").isEmpty();

        for (int i = 0; i < 20; i++) {
            assertThat(exchange(port, good(job))).as("a good request after the flood").isEqualTo(200);
        }
        var stopping = System.nanoTime();
        cluster.close();
        var stopped = Duration.ofNanos(System.nanoTime() - stopping);
        System.out.println("The server stopped in " + stopped.toMillis() + " ms after the flood");
        assertThat(stopped).as("the server stops promptly").isLessThan(Duration.ofSeconds(30));
    }

    private static void count(Map<String, AtomicInteger> counts, String key) {
        counts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    }

    private static byte[] good(String job) {
        return ascii("GET /status/" + job + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    }

    record Kind(String name, IntFunction<byte[]> request, boolean mayClose) {}

    private static List<Kind> kinds(String job) {
        var kinds = new ArrayList<Kind>();
        for (var target : List.of("http://[bad", "*", "../../etc/passwd", "/status/../../etc/passwd",
                "/v1/jobs/../../etc/passwd", "/ui/../../../etc/passwd", "/ui/%2e%2e/%2e%2e/etc/passwd",
                "/download/%00", "/status/j%00", "/v1/jobs/%00/events", "/status/%zz", "/v1/jobs/%",
                "/download/%c0%ae%c0%ae/", "/v1/jobs/" + job + "/screenshots/..%2f..%2fx",
                "/v1/jobs/" + job + "/ports/99999/", "/v1/jobs/" + job + "/ports/0/", "/v1/jobs/" + job + "/ports/8000/../../x",
                "/v1/jobs/j/jupyter/%zz", "/status/" + "a".repeat(5_000), "/v1/jobs/" + "b".repeat(70) + "/events",
                "/" + "c/".repeat(3_000), "/status/j?after=%zz&x=" + "d".repeat(2_000), "/v1/jobs/" + job + "/events?after=-5",
                "/v1/jobs/" + job + "/events?after=99999999999999999999999",
                "/v1/jobs/" + job + "/links?ttl_seconds=abc", "/v1/jobs/%2F%2F/events")) {
            kinds.add(new Kind("GET " + shorten(target), seed -> ascii("GET " + target
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), false));
        }
        for (var method : List.of("FOO", "PROPFIND", "TRACE", "CONNECT", "BREW", "G\u0001T")) {
            kinds.add(new Kind(method + " /", seed -> ascii(method + " /status/" + job
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), true));
        }
        kinds.add(new Kind("huge header", seed -> ascii("GET /status/" + job + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                + "e".repeat(128 * 1024) + "\r\nConnection: close\r\n\r\n"), true));
        kinds.add(new Kind("many headers", seed -> {
            var headers = new StringBuilder();
            for (int i = 0; i < 2_000; i++) {
                headers.append("X-H").append(i).append(": v\r\n");
            }
            return ascii("GET /status/" + job + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Connection: close\r\n\r\n");
        }, true));
        kinds.add(new Kind("random bytes", seed -> {
            // Ended like a request, so the server has all it will get and must answer or close now.
            var bytes = new byte[512];
            new Random(seed).nextBytes(bytes);
            var out = new ByteArrayOutputStream();
            out.writeBytes(bytes);
            out.writeBytes(ascii("\r\n\r\n"));
            return out.toByteArray();
        }, true));
        kinds.add(new Kind("deep JSON", seed -> post("/schedule", "application/json",
                "{\"task\":" + "[".repeat(100_000) + "\"x\"" + "]".repeat(100_000) + "}"), true));
        kinds.add(new Kind("deep JSON object", seed -> post("/v1/jobs", "application/json",
                "{\"task\":\"x\",\"a\":" + "{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000) + "}"), true));
        kinds.add(new Kind("broken JSON", seed -> post("/schedule", "application/json", "{\"task\": \"x"), false));
        kinds.add(new Kind("JSON of the wrong type", seed -> post("/schedule", "application/json", "{\"task\": {\"a\": 1}}"), false));
        kinds.add(new Kind("empty task", seed -> post("/submit", "text/plain", ""), false));
        kinds.add(new Kind("oversized body", seed -> post("/schedule", "application/json",
                "{\"task\":\"" + "f".repeat(2 * 1024 * 1024) + "\"}"), true));
        kinds.add(new Kind("bad content length", seed -> ascii("POST /schedule HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: -7\r\nConnection: close\r\n\r\n{}"), true));
        kinds.add(new Kind("bad version", seed -> ascii("GET /status/" + job + " HTTP/x.y\r\nHost: 127.0.0.1\r\n\r\n"), true));
        return kinds;
    }

    private static String shorten(String target) {
        return target.length() > 60 ? target.substring(0, 60) + "..." : target;
    }

    private static byte[] post(String path, String type, String body) {
        var bytes = body.getBytes(StandardCharsets.UTF_8);
        var head = ascii("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + type
                + "\r\nContent-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n");
        var out = new ByteArrayOutputStream();
        out.writeBytes(head);
        out.writeBytes(bytes);
        return out.toByteArray();
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static final int CLOSED = -1;
    private static final int TIMED_OUT = -2;

    /** Sends the bytes on a new connection; the response's status, or CLOSED / TIMED_OUT. */
    private static int exchange(int port, byte[] request) {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(READ_TIMEOUT_MS);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
            } catch (IOException refusedMidway) {
                // The server may answer (and close) before it has read everything: read what it said.
            }
            var in = socket.getInputStream();
            var line = new StringBuilder();
            for (int b = in.read(); b >= 0 && b != '\n' && line.length() < 200; b = in.read()) {
                line.append((char) b);
            }
            var parts = line.toString().split(" ");
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                return CLOSED;
            }
            return Integer.parseInt(parts[1]);
        } catch (SocketTimeoutException e) {
            return TIMED_OUT;
        } catch (IOException | NumberFormatException e) {
            return CLOSED;
        }
    }
}
