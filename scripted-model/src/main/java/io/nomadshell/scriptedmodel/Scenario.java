package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A script of assistant turns that the {@link ScriptedModelServer} plays back, one turn per
 * chat-completion request.
 *
 * <p>The JSON form:
 * <pre>{@code
 * { "name": "hello-world",
 *   "description": "optional words for humans",
 *   "turns": [
 *     { "content": "I'll write the script.",
 *       "tool_calls": [ {"name": "write_file", "arguments": {"path": "hello.py", "content": "..."}} ] },
 *     { "expect": "Hello World", "delay_ms": 200,
 *       "fail": {"status": 500, "message": "overloaded", "times": 2},
 *       "tool_calls": [ {"name": "finish", "arguments_raw": "{\"summary\": \"done\",}"} ] },
 *     { "content": "Writing it all out now", "token_delay_ms": 50, "stall_after_ms": 300 },
 *     { "cut": true, "content": "A long answer that stops in the mid" },
 *     { "content": "<tool_call>{\"name\": \"exec\", \"arguments\": {\"command\": \"ls\"}}</tool_call>" },
 *     { "repeat": 100, "tool_calls": [ {"name": "exec", "arguments": {"command": "echo step {{turn}}"}} ] }
 *   ],
 *   "matched_turns": [ {"system_contains": "condense", "content": "Summary: ..."} ] }
 * }</pre>
 *
 * <p>A turn's fields:
 * <ul>
 *   <li>{@code content}: the assistant's text. A turn with content only answers
 *       {@code finish_reason: "stop"}; put a tool call in it as text ({@code <tool_call>{"name":
 *       ..., "arguments": {...}}</tool_call>}, or a fenced {@code ```json} object with name and
 *       arguments) to play a server that leaves calls in the text.</li>
 *   <li>{@code tool_calls}: {@code {"name", "arguments": {...}}}, or {@code "arguments_raw": "..."}
 *       to send arguments exactly as written, valid JSON or not. The server refuses, with
 *       llama-server's 500, any later request that replays a call whose arguments are not JSON.</li>
 *   <li>{@code expect}: a substring the tool results (and user messages) answering the previous turn must hold;
 *       {@code expect_images}: how many images the messages since the previous turn must carry.</li>
 *   <li>{@code delay_ms}: wait before answering (before the first byte of a stream).</li>
 *   <li>{@code fail}: {@code {"status", "message", "times"}}: errors to give first, per conversation.</li>
 *   <li>{@code cut}: {@code true} answers {@code finish_reason: "length"}, as an answer cut by the
 *       output cap (give its calls truncated {@code arguments_raw}). A request's
 *       {@code max_tokens} / {@code max_completion_tokens}, or the room left in the
 *       {@linkplain ScriptedModelServerBuilder#contextWindow window}, also cuts any turn whose
 *       answer is longer, at that many tokens, with {@code "length"}.</li>
 *   <li>{@code token_delay_ms}: for a request with {@code "stream": true}, the pause between deltas
 *       (the text goes word by word, a call's arguments a few characters at a time; a long one in at
 *       most 100 larger pieces).</li>
 *   <li>{@code stall_after_ms}: a stream stops sending at the first delta sent this long or more
 *       after its start (or before its last chunk if all were sent sooner) and holds the connection
 *       open, without {@code [DONE]}, until the server closes or 10 minutes pass (a client that gives
 *       up leaves the server's side waiting); a plain (not streamed) answer never comes. For testing
 *       a client's idle timeout.</li>
 *   <li>{@code repeat}: n copies of the turn in a row.</li>
 * </ul>
 * In any turn, {@code {{turn}}} in its content, arguments and expectation is replaced by the turn's
 * index, so a long job is a few lines. See {@link Turn}, {@link ToolCall}, {@link InjectedFailure}
 * and {@link MatchedTurn} for what each field means.
 *
 * @param name  the scenario's name, used in error messages
 * @param turns the assistant's turns in order; turn {@code i} answers a request holding {@code i}
 *              assistant messages (or, when older messages were left out, the turn after the one
 *              whose tool call ids the newest assistant message carries)
 * @param matchedTurns replies to requests picked by their system prompt, checked first
 */
public record Scenario(String name, List<Turn> turns, List<MatchedTurn> matchedTurns) {

    /** Where bundled scenarios live, relative to this class. */
    private static final String BUNDLED_FOLDER = "scenarios/";
    /** Bundled names are plain words, so a name can never climb out of the folder. */
    private static final Pattern BUNDLED_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");

    /**
     * Checks and copies the parts.
     *
     * @throws IllegalArgumentException if the name is blank or there are no turns
     */
    public Scenario {
        requireNonNull(name, "name");
        requireNonNull(turns, "turns");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a scenario needs a name");
        }
        if (turns.isEmpty()) {
            throw new IllegalArgumentException("the scenario '" + name + "' has no turns");
        }
        turns = List.copyOf(turns);
        matchedTurns = List.copyOf(matchedTurns);
    }

    /** A scenario without matched turns. */
    public Scenario(String name, List<Turn> turns) {
        this(name, turns, List.of());
    }

    /**
     * Reads a scenario from a JSON file.
     *
     * @throws IOException               if the file cannot be read
     * @throws ScenarioFormatException   if the file is not a well-formed scenario
     */
    public static Scenario load(Path file) throws IOException {
        requireNonNull(file, "file");
        return ScenarioParser.parse(Files.readAllBytes(file), file.toString());
    }

    /**
     * Reads a scenario shipped with this module, such as {@code "hello-world"}.
     *
     * @throws IllegalArgumentException  if no bundled scenario has that name
     * @throws ScenarioFormatException   if the bundled file is malformed
     */
    public static Scenario bundled(String name) {
        requireNonNull(name, "name");
        if (!BUNDLED_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a bundled scenario name"
                    + " (lower-case letters, digits and dashes, without '.json')");
        }
        String resource = BUNDLED_FOLDER + name + ".json";
        try (InputStream in = Scenario.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("there is no bundled scenario named '" + name + "'");
            }
            return ScenarioParser.parse(in.readAllBytes(), "bundled scenario " + name);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the bundled scenario '" + name + "'", e);
        }
    }
}
