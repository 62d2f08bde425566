package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible chat server that plays a {@link Scenario} instead of running a model.
 *
 * <p>Serves {@code POST /v1/chat/completions} (also {@code /chat/completions}, whole or streamed
 * as Server-Sent Events), {@code GET /v1/models} and llama-server's {@code GET /props} over plain
 * HTTP, on the JDK's HTTP server with a virtual thread per request. It refuses what the real API
 * refuses, in the real API's error format, so clients are tested against the errors they will
 * meet; and, as the builder sets it, it plays the tricks of other OpenAI-compatible servers: a
 * small context window, a chat template without tools, no image input (llama-server's words) or
 * tools refused (Ollama's). It also refuses, as llama-server does, any request that replays a
 * tool call whose arguments are not JSON. Turn {@code i} of the scenario answers a request
 * holding {@code i} assistant messages; the server keeps no conversation state, so any number of
 * conversations may share it and a retried request gets the same turn.
 *
 * <pre>{@code
 * try (ScriptedModelServer server = ScriptedModelServer.builder()
 *         .scenario(Scenario.bundled("hello-world")).build().start()) {
 *     OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("any").build();
 *     ...
 * }
 * }</pre>
 */
public final class ScriptedModelServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ScriptedModelServer.class);

    /** How many request bodies {@link #receivedRequests()} keeps. */
    public static final int REQUEST_LOG_CAPACITY = 1000;

    private final Scenario scenario;
    private final String host;
    private final int requestedPort;
    private final @Nullable String apiKey;
    private final ModelTraits traits;
    private final RequestLog requestLog = new RequestLog(REQUEST_LOG_CAPACITY);
    private final PromptTokenLog promptTokens = new PromptTokenLog();
    private final Shutdown shutdown = new Shutdown();

    private final Object lock = new Object();
    private @Nullable HttpServer server;
    private @Nullable ExecutorService executor;
    private boolean closed;

    ScriptedModelServer(Scenario scenario, String host, int port, @Nullable String apiKey, ModelTraits traits) {
        this.scenario = scenario;
        this.host = host;
        this.requestedPort = port;
        this.apiKey = apiKey;
        this.traits = traits;
    }

    /** A builder; set at least the {@linkplain ScriptedModelServerBuilder#scenario scenario}. */
    public static ScriptedModelServerBuilder builder() {
        return new ScriptedModelServerBuilder();
    }

    /**
     * Binds and starts serving.
     *
     * @return this server
     * @throws IOException           if the address cannot be bound
     * @throws IllegalStateException if already started or closed
     */
    public ScriptedModelServer start() throws IOException {
        synchronized (lock) {
            if (server != null || closed) {
                throw new IllegalStateException(closed ? "the server is closed" : "the server is already started");
            }
            ObjectMapper mapper = JsonMapper.builder().build();
            Clock clock = Clock.systemUTC();
            CompletionBuilder completions = new CompletionBuilder(clock);
            ApiRouter router = new ApiRouter(mapper, new BearerAuth(apiKey),
                    new ChatCompletionsEndpoint(mapper, requestLog, promptTokens,
                            new ScenarioPlayer(scenario, traits, shutdown), completions,
                            new ChunkStream(mapper, completions, shutdown, traits), shutdown),
                    new ModelsEndpoint(mapper, clock.instant(), traits),
                    new PropsEndpoint(mapper, traits));
            HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getByName(host), requestedPort), 0);
            http.createContext("/", router);
            ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
            http.setExecutor(threads);
            http.start();
            server = http;
            executor = threads;
        }
        log.info("scripted model '{}' ({} turns) listening on {}", scenario.name(), scenario.turns().size(), baseUrl());
        return this;
    }

    /**
     * The bound port (the free one picked if the builder's port was 0).
     *
     * @throws IllegalStateException if not started
     */
    public int port() {
        return running().getAddress().getPort();
    }

    /**
     * The base URL for OpenAI clients, such as {@code http://127.0.0.1:41234/v1}.
     *
     * @throws IllegalStateException if not started
     */
    public String baseUrl() {
        InetSocketAddress address = running().getAddress();
        String hostPart = address.getAddress() instanceof Inet6Address
                ? "[" + address.getAddress().getHostAddress() + "]"
                : address.getAddress().getHostAddress();
        return "http://" + hostPart + ":" + address.getPort() + "/v1";
    }

    /**
     * The bodies of the latest chat-completion requests that were valid JSON, refused ones
     * included, oldest first, at most {@value #REQUEST_LOG_CAPACITY}. For tests: the nodes are
     * the server's own, so do not change them.
     */
    public List<JsonNode> receivedRequests() {
        return requestLog.bodies();
    }

    /**
     * The latest chat-completion requests that were valid JSON, oldest first, at most
     * {@value #REQUEST_LOG_CAPACITY}, each with what it asked for (output cap, streaming, usage)
     * and what it got (status, usage in the server's count, finish reason), as it stands now.
     */
    public List<RecordedRequest> requests() {
        return requestLog.snapshot();
    }

    /**
     * The prompt tokens of every request answered so far, in order, counted by this server with
     * o200k_base (times its {@linkplain ScriptedModelServerBuilder#tokenScale token scale}) over the
     * texts of the messages, the tool calls' arguments and, where the template carries tools, the tool
     * definitions (at most {@value PromptTokenLog#CAPACITY}). A client's context budget is checked
     * against these.
     */
    public List<Integer> promptTokenCounts() {
        return promptTokens.snapshot();
    }

    /** Stops listening and ends requests in flight (a delayed turn or a stall is cut short). Idempotent. */
    @Override
    public void close() {
        HttpServer http;
        ExecutorService threads;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            http = server;
            threads = executor;
        }
        shutdown.begin();
        if (http == null || threads == null) {
            return;
        }
        http.stop(0);
        threads.shutdown();
        try {
            if (!threads.awaitTermination(1, TimeUnit.SECONDS)) {
                threads.shutdownNow();
            }
        } catch (InterruptedException e) {
            threads.shutdownNow();
            Thread.currentThread().interrupt();
        }
        log.info("scripted model '{}' stopped", scenario.name());
    }

    private HttpServer running() {
        synchronized (lock) {
            if (server == null || closed) {
                throw new IllegalStateException(closed ? "the server is closed" : "the server is not started");
            }
            return server;
        }
    }
}
