package io.nomadshell.gateway.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.Server;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Requests the decoder refuses (no request context yet) get their JSON error from every event loop at
 * once. The handler once joined on a response aggregated on another event loop: about ten such
 * requests at a time blocked every loop on the others for good, and the server no longer stopped.
 */
class JsonErrorHandlerTest {
    private static final int CONCURRENT = 40;

    @Test
    void manyConcurrentInvalidTargetsAreAllAnsweredAndTheServerStillStops() throws Exception {
        var server = Server.builder().http(0).service("/ok", (ctx, req) -> HttpResponse.of(200))
                .errorHandler(new JsonErrorHandler()).build();
        server.start().join();
        try (var pool = Executors.newFixedThreadPool(CONCURRENT)) {
            var answers = new ArrayList<Future<String>>();
            for (int i = 0; i < CONCURRENT; i++) {
                answers.add(pool.submit(() -> statusLine(server.activeLocalPort(),
                        "GET http://[bad HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")));
            }
            for (var answer : answers) {
                assertThat(answer.get(10, TimeUnit.SECONDS)).startsWith("HTTP/1.1 400");
            }
            assertThat(statusLine(server.activeLocalPort(), "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
        } finally {
            server.stop().get(10, TimeUnit.SECONDS);
        }
    }

    private static String statusLine(int port, String request) throws IOException {
        try (var socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            var line = new StringBuilder();
            var in = socket.getInputStream();
            for (int b = in.read(); b >= 0 && b != '\r'; b = in.read()) {
                line.append((char) b);
            }
            return line.toString();
        }
    }
}
