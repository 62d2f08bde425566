package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns a scenario file into a {@link Scenario}, naming the exact place of any mistake.
 *
 * <p>Unknown fields are errors, so a misspelt {@code "tool_call"} or {@code "expects"} cannot
 * silently change what a test checks.
 */
final class ScenarioParser {

    /** More turns than this is a typo, not a long job. */
    private static final int MAX_TURNS = 100_000;
    private static final String TURN_PLACEHOLDER = "{{turn}}";

    /** A delay longer than this is a typo, not a test of slowness. */
    private static final long MAX_DELAY_MS = 600_000;
    /** Between two deltas; a stream of a few hundred of them still ends within minutes. */
    private static final long MAX_TOKEN_DELAY_MS = 10_000;

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String source;

    private ScenarioParser(String source) {
        this.source = source;
    }

    /** Parses {@code json}, read from {@code source} (a path or a name for error messages). */
    static Scenario parse(byte[] json, String source) {
        return new ScenarioParser(source).scenario(json);
    }

    private Scenario scenario(byte[] json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new ScenarioFormatException(
                    "scenario " + source + ": not valid JSON" + where(e.getLocation()) + ": "
                            + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ScenarioFormatException("scenario " + source + ": cannot be read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw error("", "expected a JSON object with \"name\" and \"turns\"");
        }
        onlyFields(root, "", Set.of("name", "description", "turns", "matched_turns"));
        String name = requiredText(root, "", "name");
        optionalText(root, "", "description");
        JsonNode turnsNode = root.get("turns");
        if (turnsNode == null || !turnsNode.isArray() || turnsNode.isEmpty()) {
            throw error("turns", "expected a non-empty array of turns");
        }
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < turnsNode.size(); i++) {
            JsonNode node = turnsNode.get(i);
            String at = "turns[" + i + "]";
            long repeat = node.isObject() ? optionalLong(node, at, "repeat", 1, 1, MAX_TURNS) : 1;
            if (turns.size() + repeat > MAX_TURNS) {
                throw error(at + ".repeat", "the scenario would have more than " + MAX_TURNS + " turns");
            }
            for (long r = 0; r < repeat; r++) {
                turns.add(turn(node, at, turns.size()));
            }
        }
        return new Scenario(name, turns, matchedTurns(root.get("matched_turns")));
    }

    private List<MatchedTurn> matchedTurns(@Nullable JsonNode node) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw error("matched_turns", "expected an array of {\"system_contains\", \"content\"}");
        }
        List<MatchedTurn> matched = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode entry = node.get(i);
            String at = "matched_turns[" + i + "]";
            if (!entry.isObject()) {
                throw error(at, "expected an object");
            }
            onlyFields(entry, at, Set.of("system_contains", "content"));
            matched.add(new MatchedTurn(requiredText(entry, at, "system_contains"), requiredText(entry, at, "content")));
        }
        return matched;
    }

    private Turn turn(JsonNode node, String at, int index) {
        if (!node.isObject()) {
            throw error(at, "expected an object");
        }
        onlyFields(node, at, Set.of("content", "tool_calls", "expect", "expect_images", "delay_ms", "fail", "repeat",
                "cut", "token_delay_ms", "stall_after_ms"));
        String turnNumber = Integer.toString(index);
        String content = fill(optionalText(node, at, "content"), turnNumber);
        List<ToolCall> toolCalls = toolCalls(node.get("tool_calls"), at + ".tool_calls").stream()
                .map(call -> new ToolCall(call.name(), fill(call.arguments(), turnNumber)))
                .toList();
        if (content == null && toolCalls.isEmpty()) {
            throw error(at, "a turn needs \"content\" or \"tool_calls\"");
        }
        String expect = fill(optionalText(node, at, "expect"), turnNumber);
        if (expect != null && index == 0) {
            throw error(at + ".expect", "the first turn has no tool results to expect anything of");
        }
        long delayMs = optionalLong(node, at, "delay_ms", 0, 0, MAX_DELAY_MS);
        JsonNode fail = node.get("fail");
        InjectedFailure failure = fail == null || fail.isNull() ? null : failure(fail, at + ".fail");
        long images = optionalLong(node, at, "expect_images", -1, 0, 100);
        if (images >= 0 && index == 0) {
            throw error(at + ".expect_images", "the first turn has no tool results to expect images of");
        }
        boolean cut = optionalBoolean(node, at, "cut");
        long tokenDelayMs = optionalLong(node, at, "token_delay_ms", 0, 0, MAX_TOKEN_DELAY_MS);
        long stallAfterMs = optionalLong(node, at, "stall_after_ms", -1, 0, MAX_DELAY_MS);
        return new Turn(content, toolCalls, expect, Duration.ofMillis(delayMs), failure,
                images < 0 ? null : (int) images, cut, Duration.ofMillis(tokenDelayMs),
                stallAfterMs < 0 ? null : Duration.ofMillis(stallAfterMs));
    }

    /** The text with {@value #TURN_PLACEHOLDER} replaced by the turn's index (digits: safe inside JSON). */
    private static @Nullable String fill(@Nullable String text, String turnNumber) {
        return text == null ? null : text.replace(TURN_PLACEHOLDER, turnNumber);
    }

    private List<ToolCall> toolCalls(@Nullable JsonNode node, String at) {
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw error(at, "expected an array of tool calls");
        }
        List<ToolCall> calls = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            calls.add(toolCall(node.get(i), at + "[" + i + "]"));
        }
        return calls;
    }

    private ToolCall toolCall(JsonNode node, String at) {
        if (!node.isObject()) {
            throw error(at, "expected an object with \"name\" and \"arguments\"");
        }
        onlyFields(node, at, Set.of("name", "arguments", "arguments_raw"));
        String name = requiredText(node, at, "name");
        JsonNode arguments = node.get("arguments");
        JsonNode raw = node.get("arguments_raw");
        if (arguments != null && raw != null) {
            throw error(at, "give \"arguments\" or \"arguments_raw\", not both");
        }
        if (raw != null) {
            if (!raw.isTextual()) {
                throw error(at + ".arguments_raw", "expected a string, sent to the client as it is");
            }
            return new ToolCall(name, raw.textValue());
        }
        if (arguments == null) {
            return new ToolCall(name, "{}");
        }
        if (!arguments.isObject()) {
            throw error(at + ".arguments", "expected a JSON object (use \"arguments_raw\" for anything else)");
        }
        return new ToolCall(name, arguments.toString());
    }

    private InjectedFailure failure(JsonNode node, String at) {
        if (!node.isObject()) {
            throw error(at, "expected an object with \"status\", \"message\" and \"times\"");
        }
        onlyFields(node, at, Set.of("status", "message", "times"));
        int status = (int) optionalLong(node, at, "status", 500, 400, 599);
        String message = optionalText(node, at, "message");
        int times = (int) optionalLong(node, at, "times", 1, 1, 1_000);
        return new InjectedFailure(status, message == null ? InjectedFailure.DEFAULT_MESSAGE : message, times);
    }

    private void onlyFields(JsonNode node, String at, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String field = names.next();
            if (!allowed.contains(field)) {
                throw error(join(at, field), "unknown field (allowed: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private String requiredText(JsonNode node, String at, String field) {
        String text = optionalText(node, at, field);
        if (text == null || text.isBlank()) {
            throw error(join(at, field), "expected a non-empty string");
        }
        return text;
    }

    private @Nullable String optionalText(JsonNode node, String at, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw error(join(at, field), "expected a string");
        }
        return value.textValue();
    }

    private boolean optionalBoolean(JsonNode node, String at, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return false;
        }
        if (!value.isBoolean()) {
            throw error(join(at, field), "expected true or false");
        }
        return value.booleanValue();
    }

    private long optionalLong(JsonNode node, String at, String field, long absent, long min, long max) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isIntegralNumber() || value.longValue() < min || value.longValue() > max) {
            throw error(join(at, field), "expected a whole number from " + min + " to " + max);
        }
        return value.longValue();
    }

    private ScenarioFormatException error(String at, String problem) {
        return new ScenarioFormatException(
                "scenario " + source + (at.isEmpty() ? "" : ", at " + at) + ": " + problem);
    }

    private static String join(String at, String field) {
        return at.isEmpty() ? field : at + "." + field;
    }

    private static String where(@Nullable JsonLocation location) {
        return location == null || location.getLineNr() < 1
                ? ""
                : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }
}
