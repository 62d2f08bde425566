package io.nomadshell.controlplane.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ready time with the local launcher: from Schedule accepted to the first tool call done, through
 * the whole control plane (Redis queue, bubblewrap sandbox, daemon start and attach, model call).
 * The scripted model answers at once, so this is the platform's own cost.
 * Run: {@code ./mvnw -pl control-plane test -Dtest=ReadyTimeBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 */
class ReadyTimeBenchmark {
    private static final int JOBS = 10;

    @TempDir
    Path dataDir;

    @Test
    void scheduleToFirstToolCallDone() throws Exception {
        var scenario = Scenario.load(Path.of(getClass().getResource("/scenarios/exec-true.json").toURI()));
        var socket = dataDir.resolve("attach/attach.sock");
        try (var model = ScriptedModelServer.builder().scenario(scenario).build().start();
                var controlPlane = ControlPlane.start(ControlPlaneOptions.builder()
                        .dataDir(dataDir)
                        .launcher(SandboxFixture.daemonLauncher(dataDir, socket))
                        .model(new ModelOptions(model.baseUrl(), "bench", "scripted", 0))
                        .maxRunning(1)
                        .build());
                var attach = AttachSocketServer.serve(socket, controlPlane.attachService())) {
            var samples = new long[JOBS];
            for (int i = 0; i < JOBS; i++) {
                long start = System.nanoTime();
                var job = controlPlane.jobs().schedule("bench", "run true", null);
                var firstToolDone = new AtomicLong();
                controlPlane.jobs().watch("bench", job.id(), 0, event -> {
                    if (event.getKindCase() == JobEvent.KindCase.TOOL_FINISHED && firstToolDone.get() == 0) {
                        firstToolDone.set(System.nanoTime());
                    }
                }, () -> false);
                assertThat(controlPlane.jobs().get("bench", job.id()).status().wireName()).isEqualTo("complete");
                samples[i] = firstToolDone.get() - start;
            }
            var ready = new Percentiles(samples);
            System.out.println("ready time (schedule accepted -> first tool call done), local launcher: " + ready);
        }
    }
}
