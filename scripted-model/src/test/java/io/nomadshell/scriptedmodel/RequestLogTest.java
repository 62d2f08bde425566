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

        assertThat(log.snapshot()).containsExactly(IntNode.valueOf(3), IntNode.valueOf(4), IntNode.valueOf(5));
    }

    @Test
    void snapshotDoesNotChangeWithLaterRequests() {
        RequestLog log = new RequestLog(2);
        log.add(IntNode.valueOf(1));

        var snapshot = log.snapshot();
        log.add(IntNode.valueOf(2));

        assertThat(snapshot).containsExactly(IntNode.valueOf(1));
    }
}
