package io.nomadshell.gateway.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.nomadshell.proto.v1.JobEvent;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A job event as Server-Sent Events text: its sequence as {@code id}, its kind as {@code event}, its
 * JSON as {@code data}. The watchers of one job are handed the very same event objects (they share
 * one reader), so each is rendered once, not once per watcher: the text of recent events is kept in
 * a small table and found again by identity.
 */
final class SseText {
    private static final JsonFormat.Printer JSON =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
    private static final int SLOTS = 4096;

    private final AtomicReferenceArray<Rendered> recent = new AtomicReferenceArray<>(SLOTS);

    String of(JobEvent event) {
        int slot = (Long.hashCode(event.getSequence()) * 31 + event.getJobId().hashCode()) & (SLOTS - 1);
        var known = recent.get(slot);
        if (known != null && known.event() == event) {
            return known.text();
        }
        var text = "id:" + event.getSequence() + "\nevent:" + event.getKindCase().name().toLowerCase(Locale.ROOT)
                + "\ndata:" + json(event) + "\n\n";
        recent.set(slot, new Rendered(event, text));
        return text;
    }

    /** A comment line, which clients ignore (keeps idle connections open through proxies). */
    static String comment(String text) {
        return ":" + text + "\n\n";
    }

    /** An event with a name and data but no id. */
    static String named(String name, String data) {
        return "event:" + name + "\ndata:" + data + "\n\n";
    }

    private static String json(JobEvent event) {
        try {
            return JSON.print(event);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Rendered(JobEvent event, String text) {}
}
