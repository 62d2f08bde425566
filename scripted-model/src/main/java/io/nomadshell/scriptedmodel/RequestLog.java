package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayDeque;
import java.util.List;

/** The newest request bodies the server received, oldest first, up to a fixed number. */
final class RequestLog {

    private final int capacity;
    private final ArrayDeque<JsonNode> bodies;

    RequestLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
        this.bodies = new ArrayDeque<>(capacity);
    }

    synchronized void add(JsonNode body) {
        if (bodies.size() == capacity) {
            bodies.removeFirst();
        }
        bodies.addLast(body);
    }

    synchronized List<JsonNode> snapshot() {
        return List.copyOf(bodies);
    }
}
