package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With runtime runsc, sandboxes run under gVisor's own kernel, and a job still runs to its zip. */
class NomadGvisorTest {
    private final String prefix = NomadCluster.newJobPrefix();
    private ScriptedModelServer model;
    private NomadCluster cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
        NomadTestbed.assertNothingLeftAndPurge(prefix);
    }

    @Test
    void aJobRunsUnderGvisor(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("kernel", dataDir, "")).build().start();
        cluster = NomadCluster.start(dataDir.resolve("server"), model.baseUrl(), prefix, options -> options.runtime("runsc"));
        var rest = cluster.rest();
        var id = rest.schedule("Which kernel is this?");

        var job = rest.awaitEnd(id, Duration.ofSeconds(180)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        // gVisor's Sentry reports its own kernel release, not the host's.
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body()).get("kernel.txt"))
                .isEqualTo("4.4.0\n")
                .isNotEqualTo(System.getProperty("os.version") + "\n");
    }
}
