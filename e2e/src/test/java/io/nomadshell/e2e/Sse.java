package io.nomadshell.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** A plain Server-Sent Events reader over the JDK's HTTP client, as a browser's EventSource reads. */
final class Sse {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Sse() {}

    /** One dispatched event, or a comment line ({@code comment} set, the rest empty). */
    record Event(String id, String event, String data, String comment) {}

    /** What a read saw: the status, and the events and comments until {@code stop} said enough or the stream ended. */
    record Read(int status, List<Event> events, String errorBody) {
        List<Event> dispatched() {
            return events.stream().filter(e -> e.comment().isEmpty()).toList();
        }
    }

    /** Reads until {@code stop} accepts an event (the connection is then dropped) or the stream ends. */
    static Read read(String url, Map<String, String> headers, Predicate<List<Event>> stop, Duration timeout) {
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET();
        headers.forEach(request::header);
        HttpResponse<java.util.stream.Stream<String>> response;
        try {
            response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofLines());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        var events = new ArrayList<Event>();
        try (var lines = response.body()) {
            if (response.statusCode() != 200) {
                return new Read(response.statusCode(), events, String.join("\n", lines.toList()));
            }
            parse(lines.iterator(), events, stop);
        }
        return new Read(200, events, "");
    }

    /** Reads a stream's lines into {@code events}, as EventSource does, until {@code stop} accepts them or the lines end. */
    static void parse(Iterator<String> lines, List<Event> events, Predicate<List<Event>> stop) {
        var id = "";
        var name = "";
        var data = new StringBuilder();
        while (lines.hasNext()) {
            var line = lines.next();
            if (line.startsWith(":")) {
                events.add(new Event("", "", "", line.substring(1).strip()));
            } else if (line.isEmpty()) {
                if (!data.isEmpty() || !name.isEmpty()) {
                    events.add(new Event(id, name, data.toString(), ""));
                    id = "";
                    name = "";
                    data.setLength(0);
                }
            } else if (line.startsWith("id:")) {
                id = line.substring(3).strip();
            } else if (line.startsWith("event:")) {
                name = line.substring(6).strip();
            } else if (line.startsWith("data:")) {
                data.append(line.substring(5).strip());
            } else {
                continue;
            }
            if (stop.test(events)) {
                break;
            }
        }
    }
}
