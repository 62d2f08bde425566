package io.nomadshell.scriptedmodel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import org.junit.jupiter.api.Test;

class RequestLogTest {

    @Test
    void keepsOnlyTheNewestBodiesOldestFirst() {
        RequestLog log = new RequestLog(3);

        for (int i = 1; i <= 5; i++) {
            log.add(IntNode.valueOf(i));
        }

        assertThat(log.bodies()).containsExactly(IntNode.valueOf(3), IntNode.valueOf(4), IntNode.valueOf(5));
    }

    @Test
    void snapshotDoesNotChangeWithLaterRequests() {
        RequestLog log = new RequestLog(2);
        log.add(IntNode.valueOf(1));

        var snapshot = log.bodies();
        log.add(IntNode.valueOf(2));

        assertThat(snapshot).containsExactly(IntNode.valueOf(1));
    }

    @Test
    void recordReadsWhatTheRequestAskedForAndWhatItGot() throws Exception {
        RequestLog log = new RequestLog(2);
        RequestLog.Entry entry = log.add(RawHttp.JSON.readTree(
                "{\"max_tokens\": 100, \"max_completion_tokens\": \"x\", \"stream\": true,"
                        + " \"stream_options\": {\"include_usage\": true}}"));

        RecordedRequest before = log.snapshot().getFirst();
        entry.counted(42);
        entry.finished(7, "length");
        RecordedRequest after = log.snapshot().getFirst();

        assertThat(before.maxTokens()).isEqualTo(100);
        assertThat(before.maxCompletionTokens()).isNull();
        assertThat(before.stream()).isTrue();
        assertThat(before.includeUsage()).isTrue();
        assertThat(before.status()).isZero();
        assertThat(before.finished()).isFalse();
        assertThat(after.status()).isEqualTo(200);
        assertThat(after.promptTokens()).isEqualTo(42);
        assertThat(after.completionTokens()).isEqualTo(7);
        assertThat(after.finishReason()).isEqualTo("length");
    }
}
