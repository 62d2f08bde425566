package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tool call naming a path outside the workspace is refused, and the refusal reaches the model. */
class PathEscapeTest {
    private ScriptedModelServer model;
    private TestCluster cluster;

    @BeforeEach
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder()
                .scenario(Fixtures.scenario("path-escape", dataDir, "unused")).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
    }

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void readingOutsideTheWorkspaceIsRefused() {
        var rest = cluster.rest();
        var id = rest.schedule("Read /etc/passwd");
        var polled = rest.awaitEnd(id, Duration.ofSeconds(60));
        // The scenario's second turn expects "leaves the workspace" in the tool result; if the
        // refusal had not reached the model, the scripted model would fail the request.
        assertThat(polled.last().path("status").asText()).as("%s", polled.last()).isEqualTo("complete");
        var files = Fixtures.unzip(rest.getBytes("/download/" + id).body());
        assertThat(files).containsExactlyEntriesOf(Map.of("note.txt", "refused\n"));
        assertThat(String.join("\n", files.values())).doesNotContain("root:x:0:0");
    }
}
