package io.nomadshell.controlplane.launch.nomad;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.hashicorp.nomad.apimodel.AllocationListStub;
import com.hashicorp.nomad.apimodel.Evaluation;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What the launcher tells users, from allocations a real Nomad agent reported (see resources/nomad). */
class AllocationWordsTest {

    @Test
    void aSandboxKilledForMemorySaysItRanOutOfMemory() throws Exception {
        assertThat(AllocationWords.endReason(allocation("alloc-oom"), 64))
                .hasValue("the sandbox ran out of memory (limit 64 MiB) and was killed");
    }

    @Test
    void aMissingImageIsNamed() throws Exception {
        var reason = AllocationWords.endReason(allocation("alloc-image-missing"), 1024).orElseThrow();

        assertThat(reason).startsWith(
                "the sandbox image nomad-shell-sandbox:missing is not on the Nomad node and could not be pulled: ");
    }

    @Test
    void anExitCodeIsReportedWithDockersWords() throws Exception {
        assertThat(AllocationWords.endReason(allocation("alloc-exit3"), 64)).hasValue(
                "the sandbox exited with code 3: Docker container exited with non-zero exit code: 3");
        assertThat(AllocationWords.endReason(allocation("alloc-exit0"), 64)).hasValue("the sandbox exited");
    }

    @Test
    void aStoppedSandboxSaysSo() throws Exception {
        assertThat(AllocationWords.endReason(allocation("alloc-stopped"), 64)).hasValue("the sandbox was stopped");
    }

    @Test
    void aLostNodeIsNamed() throws Exception {
        // A real allocation as Nomad reports it once its node stops heartbeating.
        var lost = allocation("alloc-exit0").setClientStatus("lost")
                .setClientDescription("alloc is lost since its node is down");

        assertThat(AllocationWords.endReason(lost, 64))
                .hasValue("the node running the sandbox (vm) was lost");
    }

    @Test
    void aRunningAllocationHasNotEnded() throws Exception {
        var running = allocation("alloc-exit0").setClientStatus("running");

        assertThat(AllocationWords.ended(running)).isFalse();
        assertThat(AllocationWords.endReason(running, 64)).isEmpty();
    }

    @Test
    void aSandboxNeverPlacedSaysWhichResourceNoNodeHad() throws Exception {
        var evaluation = NomadApi.read(resource("eval-blocked"), new TypeReference<Evaluation>() {});

        assertThat(AllocationWords.notPlaced(evaluation, Duration.ofSeconds(60)))
                .isEqualTo("no Nomad node could run the sandbox within 60 s: not enough memory on 1 node");
        assertThat(AllocationWords.notPlaced(null, Duration.ofSeconds(60)))
                .isEqualTo("no Nomad node could run the sandbox within 60 s");
    }

    private static AllocationListStub allocation(String name) throws IOException {
        return NomadApi.read(resource(name), new TypeReference<AllocationListStub>() {});
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = AllocationWordsTest.class.getResourceAsStream("/nomad/" + name + ".json")) {
            return new String(in.readAllBytes(), UTF_8);
        }
    }
}
