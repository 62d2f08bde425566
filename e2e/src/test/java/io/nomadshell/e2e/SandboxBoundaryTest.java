package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local (bubblewrap) sandbox reaches nothing but its own Attach stream: over the mounted socket the
 * public API, reflection, metrics, docs and UI all answer 404; no credential is in any environment or
 * readable from the daemon; a replayed launch credential is refused and the job completes regardless.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SandboxBoundaryTest {
    /** What the launcher was given, by job: the test's view of each launch credential (no sandbox has it). */
    private final Map<String, String> launchTokens = new ConcurrentHashMap<>();
    private Path dataDir;
    private ScriptedModelServer model;
    private TestCluster cluster;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        dataDir = tmp.resolve("server").toAbsolutePath();
        model = ScriptedModelServer.builder().scenario(BoundaryProbe.scenario(tmp)).build().start();
        cluster = TestCluster.startWrapping(dataDir, model.baseUrl(), launcher -> capturing(launcher));
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void theSandboxReachesOnlyItsAttachStreamAndHoldsNoCredential() throws Exception {
        var rest = cluster.rest();
        var id = rest.schedule("Probe the boundary");
        rest.awaitStatus(id, Set.of("running"), Duration.ofSeconds(60));
        var token = launchTokens.get(id);
        assertThat(token).as("the launch credential the launcher was given").isNotNull();

        BoundaryProbe.assertReplayRefused(cluster.attachSocket(), dataDir, id, token);

        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();
        assertThat(job.path("status").asText()).as("the job, its stream untouched: %s", job).isEqualTo("complete");
        var zip = Fixtures.unzip(rest.getBytes("/download/" + id).body());
        BoundaryProbe.assertRefusedAndNoCredential(zip, model.receivedRequests(), token);
        assertThat(Rest.json(rest.get("/v1/jobs")).path("jobs").size())
                .as("the POST /schedule from inside created no job").isEqualTo(1);
    }

    private SandboxLauncher capturing(SandboxLauncher launcher) {
        return spec -> {
            launchTokens.put(spec.jobId(), spec.token());
            return launcher.launch(spec);
        };
    }
}
