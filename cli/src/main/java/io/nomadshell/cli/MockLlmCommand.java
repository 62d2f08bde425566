package io.nomadshell.cli;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Serves a scripted OpenAI-compatible model, for demos and tests without a real one. */
@Command(name = "mock-llm", description = "Serve a scripted OpenAI-compatible model that replays a scenario.")
final class MockLlmCommand implements Callable<Integer> {
    @Option(names = "--scenario", description = "Scenario JSON file (default: the bundled hello-world).")
    @Nullable Path scenario;

    @Option(names = "--port", defaultValue = "8082", description = "Port on 127.0.0.1 (default ${DEFAULT-VALUE}; 8080 and 8081 are the server's).")
    int port = 8082;

    // The ways real servers differ, one flag each, to try the control plane against them by hand.
    @Option(names = "--context-window", paramLabel = "TOKENS", description = "The model's context window, told by GET /props and /v1/models; a longer prompt is refused as llama-server refuses it (default 32768).")
    @Nullable Integer contextWindow;

    @Option(names = "--no-tools", description = "Play a chat template without tools: GET /props says supports_tools false and tools in requests are ignored.")
    boolean noTools;

    @Option(names = "--no-images", description = "Play a model without vision: GET /props says vision false and image parts are refused.")
    boolean noImages;

    @Option(names = "--tools-rejected", description = "Refuse any request offering tools, as Ollama does for a model without tool support.")
    boolean toolsRejected;

    @Option(names = "--token-scale", paramLabel = "F", description = "Count F tokens for each o200k_base token (e.g. 1.2 for a Gemma-like tokenizer) in usage, the window and the output cap (default 1).")
    @Nullable Double tokenScale;

    @Override
    public Integer call() throws Exception {
        var script = scenario != null ? Scenario.load(scenario) : Scenario.bundled(DemoCommand.SCENARIO);
        var server = start(script);
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "shutdown"));
        System.err.println("Scripted model '" + script.name() + "' at " + server.baseUrl()
                + " (set OPENAI_BASE_URL to it). Ctrl-C stops it.");
        stopped.await();
        return 0;
    }

    /** A server playing {@code script} as the flags say, listening. */
    ScriptedModelServer start(Scenario script) throws IOException {
        var builder = ScriptedModelServer.builder().scenario(script).port(port)
                .toolsSupported(!noTools).acceptsImages(!noImages).toolsRejected(toolsRejected);
        if (contextWindow != null) {
            builder.contextWindow(contextWindow);
        }
        if (tokenScale != null) {
            builder.tokenScale(tokenScale);
        }
        return builder.build().start();
    }
}
