package io.nomadshell.cli;

import io.nomadshell.proto.v1.ScheduleRequest;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole path on one machine with the scripted model: start everything with embedded defaults
 * in a fresh data directory, run the example task, print the zip's path last.
 */
@Command(name = "demo", description = "Run an example task end to end with the scripted model; prints the zip's path.")
final class DemoCommand implements Callable<Integer> {
    static final String SCENARIO = "hello-world";
    static final String TASK = "Create a Python script that prints Hello World";

    @Option(names = {"-o", "--output"}, description = "Where to save the zip (default: ./<job id>.zip).")
    Path output;

    @Override
    public Integer call() throws Exception {
        var dataDir = Files.createTempDirectory("nomad-shell-demo");
        try (var model = ScriptedModelServer.builder().scenario(Scenario.bundled(SCENARIO)).build().start()) {
            var settings = new ServerSettings();
            settings.port = 0;
            settings.previewPort = 0;
            settings.dataDir = dataDir;
            settings.redisUrl = null;
            settings.apiKeys = null;
            settings.apiKeysFile = null;
            settings.openAiBaseUrl = model.baseUrl();
            settings.openAiApiKey = "demo";
            settings.model = "scripted";
            settings.daemonJar = DaemonJar.locate();
            try (var running = settings.start();
                    var client = new JobClient("127.0.0.1:" + running.gateway().port(), null)) {
                return RunCommand.submitAndFollow(client, ScheduleRequest.newBuilder().setTask(TASK).build(), output);
            }
        }
    }
}
