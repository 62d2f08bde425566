package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.cli.PortForwarder;
import io.nomadshell.controlplane.spawn.ParentBoundSpawner;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a tunnel costs: the same python3 HTTP server, once inside a sandbox reached through the
 * tunnel (its preview origin and port-forward), once on the host reached directly over loopback. Small
 * requests (latency), a 5 MB file (throughput; also straight through the job's port bridge, which is
 * the tunnel without the gateway's HTTP proxy in front), and fresh connections to the first byte of an
 * answer (what opening a tunnel costs). Printed, not asserted.
 * Run: {@code ./mvnw -pl e2e -am verify -Dtest=TunnelBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class TunnelBenchmark {
    private static final int SMALL = 300;
    /** Rounds of 5 MB downloads, one by each route a round; odd, so the median is one of them. */
    private static final int LARGE = 41;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void tunnelVersusDirectLoopback(@TempDir Path temp) throws Exception {
        var marker = "bench-" + UUID.randomUUID();
        try (var model = ScriptedModelServer.builder().scenario(Fixtures.scenario("serve-ports", temp, marker)).build().start();
                var cluster = TestCluster.start(temp.resolve("server"), model.baseUrl(), 1, ApiKeys.none())) {
            var id = cluster.rest().schedule("serve");
            cluster.rest().awaitStatus(id, Set.of("running"), Duration.ofSeconds(60));
            var previews = new PreviewClient(cluster.previewPort());
            var link = Rest.json(cluster.rest().post("/v1/jobs/" + id + "/links?port=18080", "application/json", "{}"));
            var cookie = previews.enter(link.path("url").asText());
            var proxy = link.path("origin").asText();
            Fetcher viaPreview = url -> {
                var response = previews.get(url, "Cookie", cookie);
                return new Fetched(response.status().code(), response.content().array());
            };
            awaitOk(viaPreview, proxy + "/hello.txt");

            var site = Files.createDirectories(temp.resolve("site"));
            Files.writeString(site.resolve("hello.txt"), "hello through the tunnel " + marker + "\n");
            var big = new byte[256 * 20_000];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) i;
            }
            Files.write(site.resolve("big.bin"), big);
            int port;
            try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            var host = ParentBoundSpawner.startKilledWithParent(
                    new ProcessBuilder("python3", "-m", "http.server", Integer.toString(port), "--bind", "127.0.0.1")
                            .directory(site.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD),
                    "the web server");
            try (previews; var forwarder = PortForwarder.start("127.0.0.1:" + cluster.port(), null, id, 18080, 0, System.err)) {
                var direct = "http://127.0.0.1:" + port;
                Fetcher plain = TunnelBenchmark::get;
                awaitOk(plain, direct + "/hello.txt");
                var forwarded = "http://127.0.0.1:" + forwarder.localPort();

                var bridge = cluster.controlPlane().tunnels().bridge(id, 18080);
                var openDirect = firstByte(() -> SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
                var openTunnel = firstByte(() -> SocketChannel.open(UnixDomainSocketAddress.of(bridge)));

                var smallDirect = latencies(plain, direct + "/hello.txt");
                var smallProxy = latencies(viaPreview, proxy + "/hello.txt");
                var smallForward = latencies(plain, forwarded + "/hello.txt");
                Fetcher viaBridge = path -> bridgeGet(bridge, path);
                var rates = throughputs(big.length, new Route(plain, direct + "/big.bin"),
                        new Route(viaPreview, proxy + "/big.bin"), new Route(plain, forwarded + "/big.bin"),
                        new Route(viaBridge, "/big.bin"));
                double bigDirect = median(rates[0]);
                double bigProxy = median(rates[1]);
                double bigForward = median(rates[2]);

                System.out.printf("small GET p50/p99 ms: direct %.2f/%.2f, preview %.2f/%.2f, port-forward %.2f/%.2f%n",
                        smallDirect[0], smallDirect[1], smallProxy[0], smallProxy[1], smallForward[0], smallForward[1]);
                System.out.printf("5 MB GET MB/s (median / best of %d rounds): direct %.1f / %.1f, preview %.1f / %.1f, "
                        + "port-forward %.1f / %.1f%n", LARGE, bigDirect, best(rates[0]), bigProxy, best(rates[1]),
                        bigForward, best(rates[2]));
                System.out.printf("5 MB GET straight through the job's port bridge (the tunnel alone, no gateway proxy): "
                        + "median %.1f MB/s, %.0f%% of direct; within a round, median %.0f%%; best %.1f MB/s%n",
                        median(rates[3]), 100 * median(rates[3]) / bigDirect, 100 * median(shares(rates[3], rates[0])),
                        best(rates[3]));
                System.out.printf("ratio p50 latency preview/direct %.1fx, port-forward/direct %.1fx; "
                        + "throughput direct/preview %.1fx, direct/port-forward %.1fx%n",
                        smallProxy[0] / smallDirect[0], smallForward[0] / smallDirect[0],
                        bigDirect / bigProxy, bigDirect / bigForward);
                System.out.printf("throughput through the tunnel as a share of direct: preview %.0f%%, port-forward %.0f%% "
                        + "(medians); within a round, median %.0f%% and %.0f%%; best against best %.0f%% and %.0f%%%n",
                        100 * bigProxy / bigDirect, 100 * bigForward / bigDirect,
                        100 * median(shares(rates[1], rates[0])), 100 * median(shares(rates[2], rates[0])),
                        100 * best(rates[1]) / best(rates[0]), 100 * best(rates[2]) / best(rates[0]));
                System.out.printf("new connection to first answer byte p50/p99 ms: direct %.2f/%.2f, new tunnel (port bridge) "
                        + "%.2f/%.2f; a new tunnel adds %.2f ms at p50%n", openDirect[0], openDirect[1],
                        openTunnel[0], openTunnel[1], openTunnel[0] - openDirect[0]);
            } finally {
                host.destroy();
                host.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /** p50 and p99 in ms of {@value #SMALL} GETs (after 30 warm-up ones). */
    private static double[] latencies(Fetcher fetch, String url) throws Exception {
        for (int i = 0; i < 30; i++) {
            fetch.get(url);
        }
        var samples = new long[SMALL];
        for (int i = 0; i < SMALL; i++) {
            long start = System.nanoTime();
            assertThat(fetch.get(url).status()).isEqualTo(200);
            samples[i] = System.nanoTime() - start;
        }
        Arrays.sort(samples);
        return new double[] {samples[SMALL / 2] / 1e6, samples[SMALL * 99 / 100] / 1e6};
    }

    /**
     * p50 and p99 in ms, over {@value #SMALL} fresh connections (after 30 warm-up ones), from connecting
     * to the first byte of the answer to a small GET: for a tunnel, opening it and one exchange through it.
     */
    private static double[] firstByte(Connector connect) throws Exception {
        var request = ByteBuffer.wrap("GET /hello.txt HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        var samples = new long[SMALL];
        for (int i = -30; i < SMALL; i++) {
            long start = System.nanoTime();
            try (var channel = connect.open()) {
                channel.write(request.duplicate());
                assertThat(channel.read(ByteBuffer.allocate(1))).isEqualTo(1);
                if (i >= 0) {
                    samples[i] = System.nanoTime() - start;
                }
                // Read the rest, so the server is done with this one before the next.
                var rest = ByteBuffer.allocate(4096);
                while (channel.read(rest.clear()) >= 0) {
                    // drained
                }
            }
        }
        Arrays.sort(samples);
        return new double[] {samples[SMALL / 2] / 1e6, samples[SMALL * 99 / 100] / 1e6};
    }

    /**
     * MB/s of each route's downloads, in {@value #LARGE} rounds (after 3 warm-up ones) of one download
     * by each route, in an order that turns each round: on a host shared with other work, load comes
     * and goes, and taking turns lets every route meet the same spells of it. Per route, in round order.
     */
    private static double[][] throughputs(int size, Route... routes) throws Exception {
        var rates = new double[routes.length][LARGE];
        for (int round = -3; round < LARGE; round++) {
            for (int turn = 0; turn < routes.length; turn++) {
                int index = Math.floorMod(round + turn, routes.length);
                var route = routes[index];
                long start = System.nanoTime();
                assertThat(route.fetch().get(route.url()).body()).hasSize(size);
                if (round >= 0) {
                    rates[index][round] = size / 1e6 / ((System.nanoTime() - start) / 1e9);
                }
            }
        }
        return rates;
    }

    /** Each round's rate through the tunnel as a share of that round's direct rate. */
    private static double[] shares(double[] tunnel, double[] direct) {
        var shares = new double[tunnel.length];
        for (int i = 0; i < tunnel.length; i++) {
            shares[i] = tunnel[i] / direct[i];
        }
        return shares;
    }

    private static double median(double[] values) {
        var sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double best(double[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }

    /**
     * An HTTP/1.0 GET of {@code path} over a fresh connection to the port bridge (a new tunnel), read
     * to its end in 256 KiB reads.
     */
    private static Fetched bridgeGet(Path bridge, String path) throws IOException {
        try (var channel = SocketChannel.open(UnixDomainSocketAddress.of(bridge))) {
            channel.write(ByteBuffer.wrap(("GET " + path + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            var answer = new ByteArrayOutputStream(6 << 20);
            var buffer = ByteBuffer.allocate(256 * 1024);
            while (channel.read(buffer.clear()) >= 0) {
                answer.write(buffer.array(), 0, buffer.position());
            }
            var bytes = answer.toByteArray();
            var text = new String(bytes, 0, Math.min(bytes.length, 1024), StandardCharsets.ISO_8859_1);
            int body = text.indexOf("\r\n\r\n") + 4;
            int status = Integer.parseInt(text.substring(9, 12));
            return new Fetched(status, Arrays.copyOfRange(bytes, body, bytes.length));
        }
    }

    private static void awaitOk(Fetcher fetch, String url) throws Exception {
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (fetch.get(url).status() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException(url + " never answered");
    }

    private static Fetched get(String url) throws Exception {
        var response = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        return new Fetched(response.statusCode(), response.body());
    }

    /** A fresh connection to the server, direct or through a new tunnel. */
    private interface Connector {
        SocketChannel open() throws IOException;
    }

    /** One way to GET a page: straight over loopback, or through a preview with its cookie. */
    private interface Fetcher {
        Fetched get(String url) throws Exception;
    }

    private record Fetched(int status, byte[] body) {}

    /** A way to GET and what to GET that way. */
    private record Route(Fetcher fetch, String url) {}
}
