package io.nomadshell.controlplane.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.proto.v1.AssistantDelta;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Watchers get the words as they come, without an event per token. */
class AssistantDeltasTest {

    @Test
    void theFirstPieceGoesAtOnceThenPiecesAreGatheredByTimeOrLength() {
        var sent = new ArrayList<AssistantDelta>();
        var clock = new AtomicLong();
        var deltas = new AssistantDeltas(4, sent::add, clock::get);

        deltas.onText("Hel");
        assertThat(sent).extracting(AssistantDelta::getText).containsExactly("Hel");
        for (int i = 0; i < 10; i++) {
            deltas.onText("lo");
        }
        assertThat(sent).as("tokens that come fast are held").hasSize(1);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(AssistantDeltas.INTERVAL_MS));
        deltas.onText("!");
        assertThat(sent).extracting(AssistantDelta::getText).containsExactly("Hel", "lo".repeat(10) + "!");
        deltas.onText("x".repeat(AssistantDeltas.MAX_HELD_CHARS));
        assertThat(sent).as("a long piece goes without waiting").hasSize(3);
        deltas.onText("tail");
        deltas.flush();
        deltas.flush();
        assertThat(sent).extracting(AssistantDelta::getText).endsWith("tail");
        assertThat(sent).hasSize(4).allSatisfy(delta -> assertThat(delta.getStep()).isEqualTo(4));
    }
}
