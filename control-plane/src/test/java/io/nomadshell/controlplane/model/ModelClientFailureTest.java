package io.nomadshell.controlplane.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each way a model endpoint fails, over real loopback sockets: the client names the cause in
 * words, retries only where a retry can help, and reports every attempt.
 */
class ModelClientFailureTest {
    private static final ModelRequest REQUEST = new ModelRequest(List.of(ChatCompletionMessageParam.ofUser(
            ChatCompletionUserMessageParam.builder().content("hello").build())), List.of(), 100);

    private final List<AutoCloseable> closers = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (var closer : closers) {
            closer.close();
        }
    }

    @Test
    void aPortNobodyListensOnIsConnectionRefusedAfterTheRetries() throws Exception {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        var attempts = new CopyOnWriteArrayList<TokenUsage>();
        var client = client("http://127.0.0.1:" + port + "/v1", 1, Duration.ofSeconds(5));

        assertThatThrownBy(() -> client.complete(REQUEST, recording(attempts)))
                .isInstanceOfSatisfying(ModelException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ModelException.Kind.UNREACHABLE);
                    assertThat(e.getMessage()).contains("connection refused").contains("127.0.0.1:" + port)
                            .contains("2 attempts");
                });
        assertThat(attempts).hasSize(2).allSatisfy(usage -> assertThat(usage.promptTokens()).isZero());
    }

    @Test
    void aBadRequestIsNotRetriedAndCarriesTheServersOwnWords() throws Exception {
        var server = new RawServer(exchange -> exchange.respond(400, "application/json",
                "{\"error\":{\"code\":400,\"message\":\"request (9000 tokens) exceeds the available context size (2048 tokens), try increasing it\",\"type\":\"exceed_context_size_error\"}}"));
        var client = client(server.url(), 2, Duration.ofSeconds(5));

        assertThatThrownBy(() -> client.complete(REQUEST, ModelListener.NONE))
                .isInstanceOfSatisfying(ModelException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ModelException.Kind.CONTEXT_TOO_LONG);
                    assertThat(e.getMessage()).isEqualTo("the model endpoint at " + server.url()
                            + " answered 400 Bad Request: request (9000 tokens) exceeds the available context size"
                            + " (2048 tokens), try increasing it");
                });
        assertThat(server.requests()).isEqualTo(1);
    }

    @Test
    void anOverloadedServerIsRetriedWithBackoff() throws Exception {
        var server = new RawServer(exchange -> exchange.respond(503, "application/json",
                "{\"error\":{\"code\":503,\"message\":\"Loading model\",\"type\":\"unavailable_error\"}}"));
        var client = client(server.url(), 2, Duration.ofSeconds(5));

        assertThatThrownBy(() -> client.complete(REQUEST, ModelListener.NONE))
                .isInstanceOfSatisfying(ModelException.class, e -> assertThat(e.getMessage())
                        .contains("answered 503 Service Unavailable: Loading model").contains("3 attempts"));
        assertThat(server.requests()).isEqualTo(3);
    }

    @Test
    void aRateLimitedCallWaitsAsLongAsTheServerAsksBeforeTryingAgain() throws Exception {
        var server = new RawServer(exchange -> exchange.respond(429, "application/json",
                "{\"error\":{\"message\":\"Rate limit reached, try again in 2s\",\"type\":\"requests\"}}",
                "Retry-After: 2\r\n"));
        var client = client(server.url(), 1, Duration.ofSeconds(5));

        assertThatThrownBy(() -> client.complete(REQUEST, ModelListener.NONE))
                .isInstanceOfSatisfying(ModelException.class, e -> assertThat(e.getMessage())
                        .contains("answered 429 Too Many Requests: Rate limit reached").contains("2 attempts"));
        var times = server.requestNanos();
        assertThat(times).hasSize(2);
        // Our own first backoff is at most 1 s: the second attempt waited for the server's 2 s.
        assertThat(Duration.ofNanos(times.get(1) - times.get(0))).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aStreamThatStallsEndsAtTheIdleTimeoutAndCountsWhatCame() throws Exception {
        var server = new RawServer(exchange -> {
            exchange.startStream();
            exchange.chunk("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                    + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Let me think about\"},\"finish_reason\":null}]}");
            exchange.holdOpen();
        });
        var attempts = new CopyOnWriteArrayList<TokenUsage>();
        var texts = new CopyOnWriteArrayList<String>();
        var client = client(server.url(), 0, Duration.ofMillis(700));

        assertThatThrownBy(() -> client.complete(REQUEST, new ModelListener() {
            @Override
            public void onText(String delta) {
                texts.add(delta);
            }

            @Override
            public void onAttempt(TokenUsage usage) {
                attempts.add(usage);
            }
        })).isInstanceOfSatisfying(ModelException.class, e -> {
            assertThat(e.kind()).isEqualTo(ModelException.Kind.STALLED);
            assertThat(e.getMessage()).contains("sent no token for 700 ms: idle timeout");
        });
        assertThat(texts).containsExactly("Let me think about");
        assertThat(attempts).singleElement().satisfies(usage -> {
            assertThat(usage.reported()).isFalse();
            assertThat(usage.promptTokens()).isEqualTo(100);
            assertThat(usage.completionTokens()).isPositive();
        });
    }

    @Test
    void aConnectionResetMidAnswerSaysSo() throws Exception {
        var server = new RawServer(exchange -> {
            exchange.startStream();
            exchange.chunk("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                    + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}");
            exchange.reset();
        });
        var client = client(server.url(), 0, Duration.ofSeconds(5));

        assertThatThrownBy(() -> client.complete(REQUEST, ModelListener.NONE))
                .isInstanceOfSatisfying(ModelException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ModelException.Kind.UNREACHABLE);
                    assertThat(e.getMessage()).containsAnyOf("connection reset", "ended its stream before the answer was complete");
                });
    }

    @Test
    void aStreamedAnswerIsAssembledWithTheServersUsageAndTheCapIsSent() throws Exception {
        var server = new RawServer(exchange -> {
            exchange.startStream();
            exchange.chunk("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                    + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}");
            exchange.chunk("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                    + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"finish_reason\":\"length\"}]}");
            exchange.chunk("{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\","
                    + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14}}");
            exchange.chunk("[DONE]");
            exchange.end();
        });
        var attempts = new CopyOnWriteArrayList<TokenUsage>();
        var client = client(server.url(), 0, Duration.ofSeconds(5));

        var answer = client.complete(REQUEST, recording(attempts));

        assertThat(answer.message().content()).contains("Hello world");
        assertThat(answer.cut()).isTrue();
        assertThat(answer.usage()).isEqualTo(new TokenUsage(12, 2, true));
        assertThat(attempts).containsExactly(new TokenUsage(12, 2, true));
        assertThat(server.lastBody()).contains("\"stream\":true").contains("\"include_usage\":true")
                .contains("\"max_tokens\":" + ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS);
    }

    private ModelClient client(String baseUrl, int retries, Duration idle) {
        var client = ModelClient.connect(new ModelOptions(baseUrl, "k", "m", retries,
                ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS, idle), 32_768);
        closers.add(client);
        return client;
    }

    private static ModelListener recording(List<TokenUsage> attempts) {
        return new ModelListener() {
            @Override
            public void onText(String delta) {}

            @Override
            public void onAttempt(TokenUsage usage) {
                attempts.add(usage);
            }
        };
    }

    /** An HTTP/1.1 server on loopback that answers chat completions as the test says, and 404 to the rest. */
    private final class RawServer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final AtomicInteger requests = new AtomicInteger();
        private final List<Long> requestNanos = new CopyOnWriteArrayList<>();
        private volatile String lastBody = "";
        private final List<Socket> open = new CopyOnWriteArrayList<>();

        RawServer(Handler handler) throws IOException {
            closers.add(this);
            Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try {
                        var connection = socket.accept();
                        open.add(connection);
                        Thread.ofVirtual().start(() -> serve(connection, handler));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
        }

        int requests() {
            return requests.get();
        }

        String lastBody() {
            return lastBody;
        }

        /** When each chat request came, in order. */
        List<Long> requestNanos() {
            return List.copyOf(requestNanos);
        }

        private void serve(Socket connection, Handler handler) {
            try (connection) {
                var in = connection.getInputStream();
                var head = readHead(in);
                int length = 0;
                for (var line : head.split("\r\n")) {
                    if (line.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(line.substring(15).strip());
                    }
                }
                var body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
                if (!head.startsWith("POST /v1/chat/completions ")) {
                    new Exchange(connection).respond(404, "text/plain", "no such route");
                    return;
                }
                lastBody = body;
                requestNanos.add(System.nanoTime());
                requests.incrementAndGet();
                handler.handle(new Exchange(connection));
            } catch (IOException | InterruptedException e) {
                // the client went away
            }
        }

        private static String readHead(InputStream in) throws IOException {
            var head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed");
                }
                head.append((char) b);
            }
            return head.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (var connection : open) {
                connection.close();
            }
        }
    }

    @FunctionalInterface
    private interface Handler {
        void handle(Exchange exchange) throws IOException, InterruptedException;
    }

    private record Exchange(Socket connection) {
        void respond(int status, String type, String body) throws IOException {
            respond(status, type, body, "");
        }

        /** With {@code headers}, each ending in CRLF. */
        void respond(int status, String type, String body, String headers) throws IOException {
            var bytes = body.getBytes(StandardCharsets.UTF_8);
            write("HTTP/1.1 " + status + " X\r\nContent-Type: " + type + "\r\nContent-Length: " + bytes.length
                    + "\r\n" + headers + "Connection: close\r\n\r\n" + body);
        }

        void startStream() throws IOException {
            write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
        }

        void chunk(String data) throws IOException {
            write("data: " + data + "\n\n");
        }

        void end() throws IOException {
            connection.shutdownOutput();
        }

        void reset() throws IOException {
            connection.setSoLinger(true, 0);
            connection.close();
        }

        /** Sends nothing more until the client goes away (bounded by the test's own timeout). */
        void holdOpen() throws IOException {
            connection.setSoTimeout(30_000);
            connection.getInputStream().read();
        }

        private void write(String text) throws IOException {
            OutputStream out = connection.getOutputStream();
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
