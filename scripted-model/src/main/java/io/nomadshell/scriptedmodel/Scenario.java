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
 *       "tool_calls": [ {"name": "finish", "arguments_raw": "{\"summary\": \"done\""} ] },
 *     { "repeat": 100, "tool_calls": [ {"name": "exec", "arguments": {"command": "echo step {{turn}}"}} ] }
 *   ],
 *   "matched_turns": [ {"system_contains": "condense", "content": "Summary: ..."} ] }
 * }</pre>
 * {@code "repeat": n} stands for n copies of the turn in a row; in any turn, {@code {{turn}}} in
 * its content, arguments and expectation is replaced by the turn's index, so a long job is a few
 * lines. See {@link Turn}, {@link ToolCall}, {@link InjectedFailure} and {@link MatchedTurn} for
 * what each field means.
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
