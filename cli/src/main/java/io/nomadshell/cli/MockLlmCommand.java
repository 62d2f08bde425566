package io.nomadshell.cli;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
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

    @Override
    public Integer call() throws Exception {
        var script = scenario != null ? Scenario.load(scenario) : Scenario.bundled(DemoCommand.SCENARIO);
        var server = ScriptedModelServer.builder().scenario(script).port(port).build().start();
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
}
