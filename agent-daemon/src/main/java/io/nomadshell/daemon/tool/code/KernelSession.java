package io.nomadshell.daemon.tool.code;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.proto.v1.CodeOutput;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One kernel of the Jupyter Server and the WebSocket to its channels (Jupyter messaging protocol
 * 5.3, JSON over {@code /api/kernels/{id}/channels}). The server restarts a kernel that dies and
 * says so with an execution state of {@code restarting}; the session then fails the request in
 * flight and remembers to tell the model.
 */
final class KernelSession implements WebSocket.Listener {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(KernelSession.class);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration KERNEL_START_TIMEOUT = Duration.ofSeconds(120);
    private static final Set<String> RESTARTED_STATES = Set.of("starting", "idle");
    /** How long to let a restart settle before reconnecting anyway (the handshake waits for the kernel). */
    private static final Duration RESTART_SETTLE = Duration.ofSeconds(10);

    private final HttpClient http;
    private final URI base;
    private final String authorization;
    private final String kernelId;
    private final int generation;
    private final String session = UUID.randomUUID().toString();
    private final Map<String, Execution> inFlight = new ConcurrentHashMap<>();
    private final StringBuilder partial = new StringBuilder();
    private volatile @Nullable WebSocket socket;
    private volatile boolean restartedUnseen;
    private volatile boolean reconnect;

    private KernelSession(HttpClient http, URI base, String authorization, String kernelId, int generation) {
        this.http = http;
        this.base = base;
        this.authorization = authorization;
        this.kernelId = kernelId;
        this.generation = generation;
    }

    /** Starts a kernel of {@code spec} on the {@code running} server and connects to it. */
    static KernelSession start(HttpClient http, JupyterServer.Running running, String spec)
            throws ToolException, InterruptedException {
        URI base = running.base();
        String authorization = JupyterServer.authorization(running.token());
        HttpResponse<String> created = send(http, authorization, HttpRequest.newBuilder(base.resolve("api/kernels"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("name", spec).toString())));
        if (created.statusCode() != 201 && created.statusCode() != 200) {
            throw new ToolException("Jupyter could not start a '" + spec + "' kernel (HTTP " + created.statusCode()
                    + "): " + message(created.body()));
        }
        String id;
        try {
            id = JSON.readTree(created.body()).path("id").asText("");
        } catch (IOException e) {
            throw new ToolException("Jupyter answered the kernel start with something that is not JSON");
        }
        KernelSession kernel = new KernelSession(http, base, authorization, id, running.generation());
        try {
            kernel.connect();
        } catch (ToolException e) {
            kernel.close();
            throw new ToolException("the '" + spec + "' kernel did not become ready: " + e.getMessage());
        }
        return kernel;
    }

    int generation() {
        return generation;
    }

    /** True if the kernel died and was restarted since the last call to this method. */
    boolean takeRestarted() {
        boolean was = restartedUnseen;
        restartedUnseen = false;
        return was;
    }

    /** Whether the server still knows this kernel. */
    boolean exists() throws InterruptedException {
        try {
            return send(http, authorization, HttpRequest.newBuilder(kernelUri("")).GET()).statusCode() == 200;
        } catch (ToolException e) {
            return false;
        }
    }

    /** Sends {@code code} for execution; stream output goes to {@code live} as it comes. */
    Execution execute(String code, BiConsumer<CodeOutput.Kind, String> live) throws ToolException, InterruptedException {
        WebSocket ws = socket;
        if (reconnect) {
            // A restarted kernel listens on new ports; a new WebSocket makes the server connect to them.
            reconnect = false;
            if (ws != null) {
                ws.abort();
            }
            awaitRestarted(RESTART_SETTLE);
            ws = null;
        }
        if (ws == null || ws.isOutputClosed() || ws.isInputClosed()) {
            connect();
            ws = requireNonNull(socket, "socket");
        }
        String msgId = UUID.randomUUID().toString();
        Execution execution = new Execution(msgId, live);
        inFlight.put(msgId, execution);
        ObjectNode message = JSON.createObjectNode();
        message.putObject("header")
                .put("msg_id", msgId)
                .put("username", "nomad-shell")
                .put("session", session)
                .put("date", Instant.now().toString())
                .put("msg_type", "execute_request")
                .put("version", "5.3");
        message.putObject("parent_header");
        message.putObject("metadata");
        message.putObject("content")
                .put("code", code)
                .put("silent", false)
                .put("store_history", true)
                .put("allow_stdin", false)
                // Calls come one at a time; with stop_on_error the kernel would abort the call
                // that follows an error (an interrupt included) if it arrives quickly.
                .put("stop_on_error", false)
                .putObject("user_expressions");
        message.put("channel", "shell");
        message.putArray("buffers");
        try {
            ws.sendText(message.toString(), true).get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            inFlight.remove(msgId);
            throw new ToolException("cannot send the code to the kernel: " + e.getMessage());
        }
        return execution;
    }

    void forget(Execution execution) {
        inFlight.remove(execution.msgId());
    }

    void interrupt() throws ToolException, InterruptedException {
        send(http, authorization, HttpRequest.newBuilder(kernelUri("/interrupt")).POST(HttpRequest.BodyPublishers.noBody()));
    }

    void restart() throws ToolException, InterruptedException {
        send(http, authorization, HttpRequest.newBuilder(kernelUri("/restart")).POST(HttpRequest.BodyPublishers.noBody()));
    }

    /** Closes the socket and shuts the kernel down; never throws. */
    void close() {
        WebSocket ws = socket;
        if (ws != null) {
            ws.abort();
        }
        try {
            send(http, authorization, HttpRequest.newBuilder(kernelUri("")).DELETE());
        } catch (ToolException | InterruptedException e) {
            // The server is going away as well.
        }
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
    }

    @Override
    public @Nullable CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        String whole = null;
        synchronized (partial) {
            partial.append(data);
            if (last) {
                whole = partial.toString();
                partial.setLength(0);
            }
        }
        if (whole != null) {
            handle(whole);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public @Nullable CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        socket = null;
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        socket = null;
    }

    private void handle(String text) {
        JsonNode message;
        try {
            message = JSON.readTree(text);
        } catch (IOException e) {
            return;
        }
        String type = message.path("header").path("msg_type").asText("");
        JsonNode content = message.path("content");
        if ("status".equals(type)) {
            String state = content.path("execution_state").asText("");
            if ("restarting".equals(state) || "dead".equals(state)) {
                restartedUnseen = true;
                reconnect = true;
                inFlight.values().forEach(Execution::died);
                return;
            }
        }
        Execution execution = inFlight.get(message.path("parent_header").path("msg_id").asText(""));
        if (execution != null) {
            execution.receive(type, content);
        }
    }

    /**
     * Waits up to {@code timeout} until the server has started the kernel again: its state is
     * {@code starting} (nobody asked it anything yet) or {@code idle}, no longer {@code busy} or
     * {@code restarting} as the dead one was.
     */
    private void awaitRestarted(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> kernel = send(http, authorization, HttpRequest.newBuilder(kernelUri("")).GET());
                if (kernel.statusCode() == 200 && RESTARTED_STATES.contains(
                        JSON.readTree(kernel.body()).path("execution_state").asText())) {
                    return;
                }
            } catch (ToolException | IOException e) {
                // Try again until the deadline.
            }
            Thread.sleep(200);
        }
    }

    /**
     * Opens the channels. The server answers the handshake once the kernel has answered its
     * first request, so a slow kernel (tslab loads the TypeScript compiler) makes it slow.
     */
    private void connect() throws ToolException, InterruptedException {
        URI ws = URI.create("ws://" + base.getAuthority() + base.getRawPath() + "api/kernels/" + kernelId + "/channels?session_id=" + session);
        long started = System.nanoTime();
        try {
            socket = http.newWebSocketBuilder()
                    .header("Authorization", authorization)
                    .connectTimeout(KERNEL_START_TIMEOUT)
                    .buildAsync(ws, this)
                    .get(KERNEL_START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            log.info("connected to kernel {} in {} ms", kernelId, (System.nanoTime() - started) / 1_000_000);
        } catch (ExecutionException | TimeoutException e) {
            throw new ToolException("cannot connect to the kernel's channels: " + e.getMessage());
        }
    }

    private URI kernelUri(String suffix) {
        return base.resolve("api/kernels/" + kernelId + suffix);
    }

    private static HttpResponse<String> send(HttpClient http, String authorization, HttpRequest.Builder request)
            throws ToolException, InterruptedException {
        try {
            return http.send(request.header("Authorization", authorization).timeout(REQUEST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new ToolException("Jupyter Server did not answer: " + e.getMessage());
        }
    }

    private static String message(String body) {
        try {
            JsonNode json = JSON.readTree(body);
            return json.path("message").asText(body);
        } catch (IOException e) {
            return body;
        }
    }
}
