package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attack on the peer port, where replicas carry tunnels to each other's sandboxes
 * ({@code --peer-address}, {@code PeerListener}): from inside a real sandbox (the local launcher, real
 * bubblewrap), through the model's own exec tool, a process dials the replica's peer address and sends a
 * peer request. It cannot: the sandbox has no network but its own loopback. The same probe run on the
 * host does reach it (so the probe would see a way through). From the host, requests without a valid
 * signature (absent, forged, made with another key, expired) are each refused in words and the
 * connection closed, with no tunnel opened: the bytes sent after them never reach the sandbox's port,
 * while a request signed as a replica signs one carries them there and back. A Nomad sandbox (docker,
 * network none) cannot reach the peer port either.
 */
class PeerPortAttackTest {
    private static final int SANDBOX_PORT = 18080;

    private final String marker = "marker-" + UUID.randomUUID();
    private EmbeddedRedis redis;
    private ScriptedModelServer model;
    private final String prefix = NomadCluster.newJobPrefix();
    private TestCluster server;
    private NomadCluster nomad;
    private String jobId;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            if (jobId != null) server.rest().post("/v1/jobs/" + jobId + ":cancel", "application/json", "{}");
            server.close();
        }
        if (nomad != null) nomad.close();
        if (model != null) model.close();
        if (redis != null) redis.close();
        if (nomad != null) NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aSandboxCannotReachThePeerPortAndUnsignedRequestsOpenNoTunnel(@TempDir Path tmp) throws Exception {
        int peerPort = freePort();
        var probe = probe(peerPort);
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("peer-attack.json"),
                scenario(probe)))).build().start();
        server = TestCluster.start(tmp.resolve("server"), model.baseUrl(), options -> options.redisUrl(redis.url())
                .peerAddress(new InetSocketAddress("127.0.0.1", peerPort)));
        jobId = server.rest().schedule("Serve a page, then try the replica's peer port");

        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            var redisCommands = connection.commands();
            assertUnreachable(new JobStore(connection), "s3c0");
            // The same probe on the host reaches the listener, which refuses its unsigned request.
            assertThat(onHost(probe)).as("the probe on the host")
                    .contains("peer-127.0.0.1: CONNECTED answer=no the request's signature is not valid");

            var holder = redisCommands.get("ns:lease:" + jobId).replaceFirst("/[0-9]+$", "");
            var address = redisCommands.get("ns:peer:" + holder);
            assertThat(address).isEqualTo("127.0.0.1:" + peerPort);
            var key = Base64.getDecoder().decode(redisCommands.hget("ns:secrets", "peers"));
            var http = "GET /hello.txt HTTP/1.0\r\n\r\n";
            awaitServed(address, key, holder, http);

            long now = System.currentTimeMillis();
            var valid = request(key, holder, now);
            var unsigned = valid.substring(0, valid.lastIndexOf(' '));
            assertThat(exchange(address, unsigned, http)).as("no signature").isEqualTo("no the request is malformed\n");
            assertThat(exchange(address, unsigned + " ", http)).as("an empty signature")
                    .startsWith("no the request").doesNotContain("HTTP/");
            assertThat(exchange(address, unsigned + " AAAA", http)).as("a forged signature")
                    .isEqualTo("no the request's signature is not valid\n");
            assertThat(exchange(address, request(new byte[32], holder, now), http))
                    .as("signed with another key").isEqualTo("no the request's signature is not valid\n");
            assertThat(exchange(address, request(key, holder, now - 120_000), http))
                    .as("expired").startsWith("no the request is stale").doesNotContain("HTTP/");
            // The line a replica signs still opens the tunnel: the refusals above are the signature's doing.
            assertThat(exchange(address, valid, http)).as("signed").startsWith("ok\nHTTP/1.0 200")
                    .endsWith("hello " + marker + "\n");
        }
    }

    /**
     * Dials the peer port and sends a request line with no valid signature, from wherever it runs;
     * one line per address: CONNECTED and the listener's answer, or UNREACHABLE and why.
     */
    private static String probe(int peerPort) {
        return """
                P=%d
                for host in 127.0.0.1 localhost; do
                  if out=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 7
                      printf "np1 tunnel j0000000000000000000 18080 aG9sZGVy %%s n1 AAAA\\n" "$(date +%%s000)" >&3
                      head -n1 <&3' "$host" "$P" 2>&1); then
                    echo "peer-$host: CONNECTED answer=$out"
                  else
                    echo "peer-$host: UNREACHABLE $(echo $out | tr -c '[:print:]' ' ')"
                  fi
                done 2>&1
                """.formatted(peerPort);
    }

    /** Serve a page on {@link #SANDBOX_PORT}, probe the peer port, then stay until the test cancels the job. */
    private String scenario(String probe) throws Exception {
        var json = Rest.JSON;
        return """
                {"name": "peer-attack",
                 "turns": [
                   {"tool_calls": [{"name": "write_file", "arguments": {"path": "hello.txt", "content": %s}}]},
                   {"tool_calls": [{"name": "exec", "arguments": {"command": %s, "background": true}}]},
                   {"tool_calls": [{"name": "exec", "arguments": {"command": %s}}]},
                   {"tool_calls": [{"name": "exec", "arguments": {"command": "sleep 300"}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "probed"}}]}
                 ]}
                """.formatted(json.writeValueAsString("hello " + marker + "\n"),
                json.writeValueAsString("exec python3 -u -m http.server " + SANDBOX_PORT + " --bind 127.0.0.1"),
                json.writeValueAsString(probe));
    }

    @Test
    void aNomadSandboxCannotReachThePeerPortEither(@TempDir Path tmp) throws Exception {
        NomadTestbed.require();
        int peerPort = freePort();
        redis = EmbeddedRedis.start(tmp.resolve("redis"));
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("peer-attack.json"), """
                {"name": "peer-attack-nomad",
                 "turns": [
                   {"tool_calls": [{"name": "exec", "arguments": {"command": %s}}]},
                   {"tool_calls": [{"name": "finish", "arguments": {"summary": "probed"}}]}
                 ]}
                """.formatted(Rest.JSON.writeValueAsString(probe(peerPort)))))).build().start();
        nomad = NomadCluster.start(tmp.resolve("server"), model.baseUrl(), prefix, UnaryOperator.identity(),
                NomadCluster.RESOURCES, options -> options.redisUrl(redis.url())
                        .peerAddress(new InetSocketAddress("127.0.0.1", peerPort)));
        var job = nomad.rest().schedule("Try the replica's peer port");
        try (var connection = RedisConnection.connect(redis.url(), "test")) {
            assertUnreachable(new JobStore(connection), job, "s1c0");
        }
        assertThat(nomad.rest().awaitEnd(job, Duration.ofMinutes(2)).last().path("status").asText()).isEqualTo("complete");
    }

    private void assertUnreachable(JobStore store, String callId) {
        assertUnreachable(store, jobId, callId);
    }

    /** What the probe said from inside the sandbox, once its call ({@code callId}) has finished. */
    private static void assertUnreachable(JobStore store, String job, String callId) {
        var deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (store.eventsAfter(job, 0, 1_000).stream().noneMatch(event -> event.hasToolFinished()
                && event.getToolFinished().getCallId().equals(callId)) && System.nanoTime() < deadline) {
            Rest.sleep(200);
        }
        var output = store.eventsAfter(job, 0, 1_000).stream().filter(JobEvent::hasToolOutput)
                .map(event -> event.getToolOutput().getText()).collect(Collectors.joining());
        assertThat(output).as("the probe from inside the sandbox").contains("peer-127.0.0.1: UNREACHABLE")
                .contains("peer-localhost: UNREACHABLE").doesNotContain("CONNECTED");
    }

    /** Waits until a signed request reaches the sandbox's page (its server starts in the background). */
    private void awaitServed(String address, byte[] key, String holder, String http) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String answer;
        do {
            answer = exchange(address, request(key, holder, System.currentTimeMillis()),
                    http);
            if (answer.contains(marker)) {
                return;
            }
            Rest.sleep(200);
        } while (System.nanoTime() < deadline);
        assertThat(answer).as("the sandbox's page through a signed request").contains(marker);
    }

    /** A request for the sandbox's page as {@code holder} would take it, signed with {@code key}, its nonce new. */
    private String request(byte[] key, String holder, long issuedAt) throws Exception {
        return PeerRequests.signed(key, jobId, SANDBOX_PORT, holder, issuedAt, "n-" + UUID.randomUUID());
    }

    /**
     * Sends the request line, reads the listener's answer, then sends {@code then} (what a tunnel carries
     * to the sandbox's port); returns the answer and everything that came back until the connection closed.
     */
    private static String exchange(String address, String line, String then) throws Exception {
        int colon = address.lastIndexOf(':');
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
                    5_000);
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
            var answer = PeerRequests.readLine(socket.getInputStream()) + "\n";
            var rest = new ByteArrayOutputStream();
            try {
                socket.getOutputStream().write(then.getBytes(StandardCharsets.US_ASCII));
                socket.getInputStream().transferTo(rest);
            } catch (SocketException e) {
                // Closed by the listener (a reset, as our bytes arrived after it closed): nothing came back.
            }
            return answer + rest.toString(StandardCharsets.UTF_8);
        }
    }

    /** Runs {@code script} with bash on the host, bounded; its output. */
    private static String onHost(String script) throws Exception {
        var process = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).start();
        try (var out = process.getInputStream()) {
            var text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the probe ended").isTrue();
            return text;
        } finally {
            process.destroyForcibly();
        }
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
