package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The newest requests the server received and what it answered, oldest first, up to a fixed number. */
final class RequestLog {

    /** One request's record, filled in as its answer goes out. */
    static final class Entry {
        private final JsonNode body;
        private int status;
        private @Nullable Integer promptTokens;
        private @Nullable Integer completionTokens;
        private @Nullable String finishReason;

        private Entry(JsonNode body) {
            this.body = body;
        }

        synchronized void refused(int status) {
            this.status = status;
        }

        /** The prompt was counted; nothing answered yet. */
        synchronized void counted(int promptTokens) {
            this.promptTokens = promptTokens;
        }

        /** An answer began, or went on: {@code completionTokens} of it are sent. */
        synchronized void answering(int completionTokens) {
            this.status = 200;
            this.completionTokens = completionTokens;
        }

        /** The whole answer is sent. */
        synchronized void finished(int completionTokens, String finishReason) {
            answering(completionTokens);
            this.finishReason = finishReason;
        }

        synchronized RecordedRequest record() {
            return new RecordedRequest(body, wholeNumber(body.get("max_tokens")),
                    wholeNumber(body.get("max_completion_tokens")), isTrue(body.get("stream")),
                    isTrue(body.path("stream_options").get("include_usage")), status, promptTokens,
                    completionTokens, finishReason);
        }

        private static @Nullable Integer wholeNumber(@Nullable JsonNode value) {
            return value != null && value.isIntegralNumber() && value.canConvertToInt() ? value.intValue() : null;
        }

        private static boolean isTrue(@Nullable JsonNode value) {
            return value != null && value.isBoolean() && value.booleanValue();
        }
    }

    private final int capacity;
    private final ArrayDeque<Entry> entries;

    RequestLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.capacity = capacity;
        this.entries = new ArrayDeque<>(capacity);
    }

    /** Records a request as it arrives; the answer is filled in through the entry. */
    synchronized Entry add(JsonNode body) {
        if (entries.size() == capacity) {
            entries.removeFirst();
        }
        Entry entry = new Entry(body);
        entries.addLast(entry);
        return entry;
    }

    synchronized List<RecordedRequest> snapshot() {
        return entries.stream().map(Entry::record).toList();
    }

    synchronized List<JsonNode> bodies() {
        return entries.stream().map(entry -> entry.body).toList();
    }
}
