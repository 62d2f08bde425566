package io.nomadshell.controlplane.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link ServerProbe} learns from each kind of server, over real loopback sockets: the
 * answers are in the shapes llama-server, vLLM and Ollama give, and anything else is "unknown".
 */
class ServerProbeTest {
    private static final String KEY = "sk-probe-test";
    private static final String QWEN = "Qwen/Qwen2.5-7B-Instruct";

    /** llama-server's GET /props, trimmed to what matters plus some of what surrounds it. */
    private static final String LLAMA_PROPS = """
            {"default_generation_settings":{"id":0,"n_ctx":8192,"params":{"n_predict":-1}},
             "total_slots":1,"model_path":"/models/qwen2.5-0.5b-instruct-q4_k_m.gguf",
             "modalities":{"vision":false,"audio":false},
             "chat_template":"{{ messages }}",
             "chat_template_caps":{"supports_parallel_tool_calls":true,"supports_string_content":true,
               "supports_system_role":true,"supports_tool_calls":true,"supports_tools":true,
               "supports_typed_content":false},
             "build_info":"b6000-abcdef0","is_sleeping":false}""";

    /** vLLM's GET /v1/models (ModelCard: id, object, created, owned_by, root, parent, max_model_len, permission). */
    private static final String VLLM_MODELS = """
            {"object":"list","data":[{"id":"Qwen/Qwen2.5-7B-Instruct","object":"model","created":1733529600,
             "owned_by":"vllm","root":"Qwen/Qwen2.5-7B-Instruct","parent":null,"max_model_len":32768,
             "permission":[{"id":"modelperm-1","object":"model_permission","created":1733529600,
               "allow_create_engine":false,"allow_sampling":true,"allow_logprobs":true,
               "allow_search_indices":false,"allow_view":true,"allow_fine_tuning":false,
               "organization":"*","group":null,"is_blocking":false}]}]}""";

    /** Ollama's GET /v1/models: no window in it. */
    private static final String OLLAMA_MODELS = """
            {"object":"list","data":[{"id":"qwen2.5:7b","object":"model","created":1733529600,"owned_by":"library"}]}""";

    /** Ollama's POST /api/show, with {@code parameters} as its padded Modelfile text. */
    private static String ollamaShow(String parameters) {
        return """
                {"modelfile":"FROM /root/.ollama/models/blobs/sha256-abc\\n","parameters":%s,
                 "template":"{{ .Prompt }}",
                 "details":{"parent_model":"","format":"gguf","family":"qwen2","families":["qwen2"],
                   "parameter_size":"7.6B","quantization_level":"Q4_K_M"},
                 "model_info":{"general.architecture":"qwen2","general.parameter_count":7615616512,
                   "qwen2.attention.head_count":28,"qwen2.block_count":28,"qwen2.context_length":32768,
                   "qwen2.embedding_length":3584},
                 "capabilities":["completion","tools"],"modified_at":"2024-12-07T01:00:00Z"}"""
                .formatted(quoted(parameters));
    }

    private final List<FakeServer> servers = new ArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(FakeServer::stop);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1", "/v1/", ""})
    void llamaCppPropsTellTheWindowToolsAndImages(String suffix) {
        var server = server(Map.of("GET /props", LLAMA_PROPS));

        var facts = probe(server.url(suffix), "qwen2.5-0.5b");

        assertThat(facts).isEqualTo(new ServerFacts(OptionalInt.of(8192), Optional.of(true), Optional.of(false),
                "llama.cpp /props"));
        assertThat(server.paths()).containsExactly("GET /props");
    }

    @Test
    void llamaCppWithoutAToolTemplateSaysSo() {
        var server = server(Map.of("GET /props", LLAMA_PROPS.replace("\"supports_tools\":true", "\"supports_tools\":false")
                .replace("\"vision\":false", "\"vision\":true")));

        var facts = probe(server.url("/v1"), "qwen2.5-0.5b");

        assertThat(facts.supportsTools()).contains(false);
        assertThat(facts.acceptsImages()).contains(true);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1", "/v1/"})
    void vllmModelsTellTheWindowOfTheModelAsked(String suffix) {
        var server = server(Map.of("GET /v1/models", VLLM_MODELS));

        var facts = probe(server.url(suffix), QWEN);

        assertThat(facts).isEqualTo(new ServerFacts(OptionalInt.of(32_768), Optional.empty(), Optional.empty(),
                "vLLM /v1/models max_model_len"));
        assertThat(server.paths()).containsExactly("GET /props", "GET /v1/models");
    }

    @Test
    void vllmSaysNothingOfAModelItDoesNotServe() {
        var server = server(Map.of("GET /v1/models", VLLM_MODELS));

        assertThat(probe(server.url("/v1"), "meta-llama/Llama-3.1-8B-Instruct")).isEqualTo(ServerFacts.NONE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/v1", "/v1/"})
    void ollamaShowTellsTheNumCtxItRunsWith(String suffix) {
        var server = server(Map.of("GET /v1/models", OLLAMA_MODELS,
                "POST /api/show", ollamaShow("num_ctx                        8192\nstop                           \"<|im_start|>\"\nstop                           \"<|im_end|>\"")));

        var facts = probe(server.url(suffix), "qwen2.5:7b");

        assertThat(facts).isEqualTo(new ServerFacts(OptionalInt.of(8192), Optional.empty(), Optional.empty(),
                "Ollama /api/show"));
        assertThat(server.paths()).containsExactly("GET /props", "GET /v1/models", "POST /api/show");
        assertThat(server.bodies()).containsExactly("", "", "{\"model\":\"qwen2.5:7b\"}");
    }

    @Test
    void ollamaWithoutNumCtxRunsItsDefaultWindowWithinTheTrainedOne() {
        var server = server(Map.of("GET /v1/models", OLLAMA_MODELS,
                "POST /api/show", ollamaShow("stop                           \"<|im_end|>\"")));

        assertThat(probe(server.url("/v1"), "qwen2.5:7b").window()).hasValue(4_096);
    }

    @Test
    void ollamaNeverTakesMoreThanTheModelWasTrainedFor() {
        var server = server(Map.of("GET /v1/models", OLLAMA_MODELS,
                "POST /api/show", ollamaShow("num_ctx 65536").replace("\"qwen2.context_length\":32768",
                        "\"qwen2.context_length\":2048")));

        assertThat(probe(server.url("/v1"), "qwen2.5:7b").window()).hasValue(2_048);
    }

    @Test
    void anEndpointThatAnswersNothingUsefulGivesNoFactsQuickly() {
        var server = server(Map.of());
        long start = System.nanoTime();

        var facts = probe(server.url("/v1"), QWEN);

        assertThat(facts).isEqualTo(ServerFacts.NONE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(server.paths()).containsExactly("GET /props", "GET /v1/models", "POST /api/show");
    }

    @Test
    void answersThatAreNotJsonGiveNoFacts() {
        var server = server(Map.of("GET /props", "<html>hello</html>", "GET /v1/models", "not json",
                "POST /api/show", ""));

        assertThat(probe(server.url("/v1"), QWEN)).isEqualTo(ServerFacts.NONE);
    }

    @Test
    void anEndpointThatRefusesConnectionsGivesNoFactsQuickly() throws IOException {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        long start = System.nanoTime();

        var facts = probe("http://127.0.0.1:" + port + "/v1", QWEN);

        assertThat(facts).isEqualTo(ServerFacts.NONE);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void anEndpointThatNeverAnswersHoldsTheStartForOneTimeoutNotOnePerQuestion() throws IOException {
        // Connections complete in the listen backlog, and nothing ever answers them.
        try (var silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();

            var facts = probe("http://127.0.0.1:" + silent.getLocalPort() + "/v1", QWEN);

            assertThat(facts).isEqualTo(ServerFacts.NONE);
            // Three questions of 5 s each took 15 s before they shared one deadline.
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void everyProbeCarriesTheApiKey() {
        var server = server(Map.of());

        probe(server.url("/v1"), QWEN);

        assertThat(server.authorizations()).hasSize(3).containsOnly("Bearer " + KEY);
    }

    @Test
    void aKeyThatCannotBeSentInAHeaderGivesNoFactsRatherThanAnError() {
        var server = server(Map.of("GET /props", LLAMA_PROPS));

        assertThat(ServerProbe.probe(new ModelOptions(server.url("/v1"), KEY + "\n", "qwen2.5-0.5b", 0)))
                .isEqualTo(ServerFacts.NONE);
        assertThat(server.paths()).isEmpty();
    }

    @Test
    void openAiIsNotProbed() {
        assertThat(ServerProbe.probe(new ModelOptions(null, KEY, "gpt-4o", 0))).isEqualTo(ServerFacts.NONE);
        assertThat(ServerProbe.probe(new ModelOptions("https://api.openai.com/v1", KEY, "gpt-4o", 0)))
                .isEqualTo(ServerFacts.NONE);
    }

    @Test
    void connectTakesTheWindowToolsAndImagesFromTheServerUnlessTheWindowIsConfigured() {
        var server = server(Map.of("GET /props", LLAMA_PROPS.replace("\"supports_tools\":true", "\"supports_tools\":false")));
        var options = new ModelOptions(server.url("/v1"), KEY, "qwen2.5-0.5b", 0);

        var probed = ModelClient.connect(options, 0).profile();
        var configured = ModelClient.connect(options, 4_000).profile();

        assertThat(probed.window()).isEqualTo(8192);
        assertThat(probed.supportsTools()).contains(false);
        assertThat(probed.acceptsImages()).isFalse();
        assertThat(configured.window()).isEqualTo(4_000);
    }

    private static ServerFacts probe(String baseUrl, String model) {
        return ServerProbe.probe(new ModelOptions(baseUrl, KEY, model, 0));
    }

    private FakeServer server(Map<String, String> answers) {
        var server = new FakeServer(answers);
        servers.add(server);
        return server;
    }

    private static String quoted(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }

    /** Answers 200 with the body set for "METHOD /path", 404 (as text, like Ollama and vLLM) for anything else. */
    private static final class FakeServer {
        private final HttpServer http;
        private final List<String> paths = new CopyOnWriteArrayList<>();
        private final List<String> bodies = new CopyOnWriteArrayList<>();
        private final List<String> authorizations = new CopyOnWriteArrayList<>();

        FakeServer(Map<String, String> answers) {
            var table = new ConcurrentHashMap<>(answers);
            try {
                http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            http.createContext("/", exchange -> {
                try (exchange) {
                    var key = exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath();
                    paths.add(key);
                    bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                    var authorization = exchange.getRequestHeaders().getFirst("Authorization");
                    authorizations.add(authorization != null ? authorization : "(none)");
                    var answer = table.get(key);
                    int status = answer != null ? 200 : 404;
                    var body = (answer != null ? answer : "404 page not found").getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", answer != null ? "application/json" : "text/plain");
                    exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
                    if (body.length > 0) {
                        exchange.getResponseBody().write(body);
                    }
                }
            });
            http.start();
        }

        String url(String suffix) {
            return "http://127.0.0.1:" + http.getAddress().getPort() + suffix;
        }

        List<String> paths() {
            return paths;
        }

        List<String> bodies() {
            return bodies;
        }

        List<String> authorizations() {
            return authorizations;
        }

        void stop() {
            http.stop(0);
        }
    }
}
