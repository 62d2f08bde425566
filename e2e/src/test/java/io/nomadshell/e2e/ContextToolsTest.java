package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model's own context tools over the real server: notes pinned in every prompt, recall over workspace files. */
class ContextToolsTest {
    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void notesArePinnedAndRecallFindsWhatACommandWroteToAFile(@TempDir Path tmp) throws Exception {
        // The command prints nothing: only the file holds the password, and only recall can find it there.
        model = ScriptedModelServer.builder().scenario(Scenario.load(Files.writeString(tmp.resolve("tools.json"), """
                {"name": "context-tools",
                 "turns": [
                   {"tool_calls": [{"name": "notes", "arguments": {"text": "plan: configure the app, then stop"}}]},
                   {"expect": "notes saved", "tool_calls": [{"name": "exec", "arguments":
                     {"command": "mkdir -p conf node_modules/x && echo 'db password: ZEBRA-1234' > conf/app.ini && echo 'db password: NOPE' > node_modules/x/a.txt"}}]},
                   {"tool_calls": [{"name": "recall", "arguments": {"query": "db password"}}]},
                   {"expect": "[workspace file conf/app.ini]\\ndb password: ZEBRA-1234",
                    "tool_calls": [{"name": "finish", "arguments": {"summary": "configured"}}]}
                 ]}
                """))).build().start();
        cluster = TestCluster.start(tmp.resolve("server"), model.baseUrl(), options -> options);

        var job = cluster.rest().schedule("Configure the app");
        var last = cluster.rest().awaitEnd(job, Duration.ofMinutes(2)).last();

        assertThat(last.path("status").asText()).as("%s", last).isEqualTo("complete");
        var requests = model.receivedRequests();
        assertThat(requests).hasSize(4);
        for (int i = 1; i < requests.size(); i++) {
            assertThat(requests.get(i).path("messages").toString()).as("request %d shows the notes", i)
                    .contains("Your notes:\\nplan: configure the app, then stop");
        }
        var messages = requests.get(3).path("messages");
        assertThat(messages.get(messages.size() - 1).path("content").asText())
                .as("recall's answer: the file first, and nothing from the dependencies' folders")
                .startsWith("[workspace file conf/app.ini]")
                .doesNotContain("[workspace file node_modules");
    }
}
