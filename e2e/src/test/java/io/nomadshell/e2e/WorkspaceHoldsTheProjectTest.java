package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox user's home is not the workspace: what tools keep there (caches, settings) stays out
 * of the zip, which holds what the agent made and nothing else.
 */
class WorkspaceHoldsTheProjectTest {
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void theZipHoldsTheProjectNotTheHomeDirectory(@TempDir Path tmp) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("home-caches", tmp, "")).build().start();
        cluster = TestCluster.start(tmp.resolve("server").toAbsolutePath(), model.baseUrl(), 1);
        var rest = cluster.rest();

        var id = rest.schedule("Fill the home directory, then write hello.txt");
        var job = rest.awaitEnd(id, Duration.ofSeconds(120)).last();

        assertThat(job.path("status").asText()).as("job %s", job).isEqualTo("complete");
        var execOutput = model.receivedRequests().get(1).path("messages").findValues("content").toString();
        assertThat(execOutput).as("what the exec call printed").contains("HOME=/home/sandbox").contains("home files:");
        assertThat(Fixtures.unzip(rest.getBytes("/download/" + id).body()).keySet()).containsExactly("hello.txt");
    }
}
