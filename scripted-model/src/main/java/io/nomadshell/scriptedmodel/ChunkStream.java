package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Sends an {@link Answer} as Server-Sent Events in OpenAI's {@code chat.completion.chunk} format:
 * a first chunk with the role, the text word by word, each tool call as its id and name and then
 * its arguments in small pieces, a last chunk with the finish reason, a usage chunk with no
 * choices when the request asked for it, and {@code data: [DONE]}. A turn's token delay spaces
 * the deltas; its stall stops the stream, connection held open, to test a client's idle timeout.
 */
final class ChunkStream {

    /** How long a stalled stream holds its connection at most: beyond any client's idle timeout. */
    static final Duration STALL_LIMIT = Duration.ofMinutes(10);

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    /** Before each word that follows white space: the text in pieces a client sees grow. */
    private static final Pattern WORD_START = Pattern.compile("(?<=\\s)(?=\\S)");
    /** Characters per piece of a tool call's arguments, at least. */
    private static final int ARGUMENT_PIECE = 8;
    /**
     * Deltas per text or per call's arguments, at most: a long answer goes in larger pieces, so
     * writing a large file takes a few hundred chunks, not tens of thousands.
     */
    private static final int MAX_PIECES = 100;
    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

    /** One delta and the text it adds: to the content ({@code call} -1) or to a call's arguments. */
    private record Delta(ObjectNode delta, int call, String text) {
    }

    private final ObjectMapper mapper;
    private final CompletionBuilder completions;
    private final Shutdown shutdown;
    private final ModelTraits traits;

    ChunkStream(ObjectMapper mapper, CompletionBuilder completions, Shutdown shutdown, ModelTraits traits) {
        this.mapper = mapper;
        this.completions = completions;
        this.shutdown = shutdown;
        this.traits = traits;
    }

    void send(HttpExchange exchange, ChatRequest request, Answer answer, RequestLog.Entry entry)
            throws IOException, InterruptedException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(200, 0);
        entry.answering(0);
        ObjectNode header = completions.header(request, "chat.completion.chunk");
        long start = System.nanoTime();
        try (OutputStream out = exchange.getResponseBody()) {
            ObjectNode first = JSON.objectNode().put("role", "assistant").put("content",
                    answer.content() == null ? null : "");
            first.putNull("refusal");
            write(out, chunk(header, request, first, null));
            StringBuilder content = new StringBuilder();
            List<StringBuilder> arguments = new ArrayList<>();
            for (Delta delta : deltas(answer)) {
                if (answer.tokenDelay().isPositive()) {
                    shutdown.pause(answer.tokenDelay());
                }
                write(out, chunk(header, request, delta.delta(), null));
                if (delta.call() < 0) {
                    content.append(delta.text());
                } else {
                    while (arguments.size() <= delta.call()) {
                        arguments.add(new StringBuilder());
                    }
                    arguments.get(delta.call()).append(delta.text());
                }
                if (stalled(answer, start)) {
                    break;
                }
            }
            if (answer.stallAfter() != null) {
                // Stalled, or sent all it had before the stall came due: it never ends either way.
                // Counted here only: counting the text so far after every delta would be quadratic.
                entry.answering(traits.serverTokens(TokenCounter.count(content.toString())
                        + arguments.stream().mapToInt(text -> TokenCounter.count(text.toString())).sum()));
                shutdown.pause(STALL_LIMIT);
                return;
            }
            write(out, chunk(header, request, JSON.objectNode(), answer.finishReason()));
            if (request.includeUsage()) {
                ObjectNode usage = header.deepCopy();
                usage.putArray("choices");
                usage.set("usage", CompletionBuilder.usage(answer));
                write(out, usage);
            }
            // Recorded before [DONE]: a client that has read the end may at once ask what was recorded.
            entry.finished(answer.completionTokens(), answer.finishReason());
            out.write(DONE);
            out.flush();
        }
    }

    private static boolean stalled(Answer answer, long startNanos) {
        Duration stallAfter = answer.stallAfter();
        return stallAfter != null && System.nanoTime() - startNanos >= stallAfter.toNanos();
    }

    /** The deltas after the first: the text word by word, then each call's start and argument pieces. */
    private static List<Delta> deltas(Answer answer) {
        List<Delta> deltas = new ArrayList<>();
        String content = answer.content();
        if (content != null && !content.isEmpty()) {
            for (String words : words(content)) {
                deltas.add(new Delta(JSON.objectNode().put("content", words), -1, words));
            }
        }
        for (int i = 0; i < answer.toolCalls().size(); i++) {
            ToolCall call = answer.toolCalls().get(i);
            ObjectNode start = JSON.objectNode().put("index", i).put("id", answer.toolCallId(i)).put("type", "function");
            start.putObject("function").put("name", call.name()).put("arguments", "");
            deltas.add(new Delta(toolCallDelta(start), i, ""));
            for (String piece : pieces(call.arguments())) {
                ObjectNode more = JSON.objectNode().put("index", i);
                more.putObject("function").put("arguments", piece);
                deltas.add(new Delta(toolCallDelta(more), i, piece));
            }
        }
        return deltas;
    }

    private static ObjectNode toolCallDelta(ObjectNode call) {
        ObjectNode delta = JSON.objectNode();
        delta.putArray("tool_calls").add(call);
        return delta;
    }

    /** {@code text} word by word, or a few words at a time if it has more than {@link #MAX_PIECES}. */
    private static List<String> words(String text) {
        String[] words = WORD_START.split(text);
        int perPiece = Math.ceilDiv(words.length, MAX_PIECES);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < words.length; i += perPiece) {
            pieces.add(String.join("", Arrays.asList(words).subList(i, Math.min(i + perPiece, words.length))));
        }
        return pieces;
    }

    /** {@code text} in pieces of a few characters, never splitting a surrogate pair. */
    private static List<String> pieces(String text) {
        int size = Math.max(ARGUMENT_PIECE, Math.ceilDiv(text.length(), MAX_PIECES));
        List<String> pieces = new ArrayList<>();
        int from = 0;
        while (from < text.length()) {
            int to = Math.min(from + size, text.length());
            if (to < text.length() && Character.isHighSurrogate(text.charAt(to - 1))) {
                to++;
            }
            pieces.add(text.substring(from, to));
            from = to;
        }
        return pieces;
    }

    private static ObjectNode chunk(ObjectNode header, ChatRequest request, ObjectNode delta,
            @Nullable String finishReason) {
        ObjectNode chunk = header.deepCopy();
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        if (request.includeUsage()) {
            // OpenAI sends "usage": null on every chunk but the last when usage is asked for.
            chunk.putNull("usage");
        }
        return chunk;
    }

    private void write(OutputStream out, ObjectNode chunk) throws IOException {
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        out.write(mapper.writeValueAsBytes(chunk));
        out.write("\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }
}
