package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;

/**
 * Bare git repositories under a folder, served on 127.0.0.1 over git's smart HTTP protocol by
 * {@code git http-backend} run as CGI for each request, optionally behind HTTP basic authentication.
 * It records the Authorization header of every request (to prove what a fetch sent).
 */
final class GitHttpServer implements AutoCloseable {
    private final HttpServer server;
    private final Path root;
    private final @Nullable String expectedAuthorization;
    private final List<String> authorizations = new CopyOnWriteArrayList<>();

    /** Serves {@code root}; with a user and password, every request without them gets 401. */
    GitHttpServer(Path root, @Nullable String user, @Nullable String password) throws IOException {
        this.root = root;
        this.expectedAuthorization = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(UTF_8));
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::serve);
        server.start();
    }

    /** The URL of the repository {@code name} (a bare repository folder under the root). */
    String url(String name) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
    }

    /** The Authorization headers requests carried, in order (empty strings for none). */
    List<String> authorizations() {
        return authorizations;
    }

    private void serve(HttpExchange exchange) throws IOException {
        try (exchange) {
            var authorization = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(authorization == null ? "" : authorization);
            if (expectedAuthorization != null && !expectedAuthorization.equals(authorization)) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
                exchange.sendResponseHeaders(401, -1);
                return;
            }
            var uri = exchange.getRequestURI();
            var builder = new ProcessBuilder("git", "http-backend");
            var env = builder.environment();
            env.put("GIT_PROJECT_ROOT", root.toString());
            env.put("GIT_HTTP_EXPORT_ALL", "1");
            env.put("PATH_INFO", uri.getPath());
            env.put("QUERY_STRING", uri.getRawQuery() == null ? "" : uri.getRawQuery());
            env.put("REQUEST_METHOD", exchange.getRequestMethod());
            env.put("REMOTE_ADDR", "127.0.0.1");
            var type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (type != null) env.put("CONTENT_TYPE", type);
            var encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
            if (encoding != null) env.put("HTTP_CONTENT_ENCODING", encoding);
            var protocol = exchange.getRequestHeaders().getFirst("Git-Protocol");
            if (protocol != null) env.put("GIT_PROTOCOL", protocol);
            if (expectedAuthorization != null) env.put("REMOTE_USER", "user");
            var body = exchange.getRequestBody().readAllBytes();
            env.put("CONTENT_LENGTH", Integer.toString(body.length));
            var process = builder.redirectError(ProcessBuilder.Redirect.DISCARD).start();
            var writer = Thread.ofVirtual().start(() -> {
                try (var in = process.getOutputStream()) {
                    in.write(body);
                } catch (IOException ignored) {
                    // The backend did not read it all: its answer says why.
                }
            });
            var out = process.getInputStream();
            int status = 200;
            for (var line = readLine(out); line != null && !line.isEmpty(); line = readLine(out)) {
                int colon = line.indexOf(':');
                var name = line.substring(0, colon).strip();
                var value = line.substring(colon + 1).strip();
                if (name.equalsIgnoreCase("Status")) {
                    status = Integer.parseInt(value.split(" ")[0]);
                } else {
                    exchange.getResponseHeaders().add(name, value);
                }
            }
            exchange.sendResponseHeaders(status, 0);
            try (var response = exchange.getResponseBody()) {
                out.transferTo(response);
            }
            writer.join();
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static @Nullable String readLine(InputStream in) throws IOException {
        var line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            if (b != '\r') line.write(b);
        }
        return b == -1 && line.size() == 0 ? null : line.toString(UTF_8);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
