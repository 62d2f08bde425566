package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The arguments a model wrote for one tool call (a JSON object), read field by field. A field of
 * the wrong type or out of range is an {@link IllegalArgumentException} whose message goes back to
 * the model.
 */
final class ToolArguments {

    private final JsonNode args;

    ToolArguments(JsonNode args) {
        this.args = requireNonNull(args, "args");
    }

    boolean has(String field) {
        JsonNode value = args.get(field);
        return value != null && !value.isNull();
    }

    String string(String field) {
        JsonNode value = args.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' is required and must be a string");
        }
        return value.asText();
    }

    String string(String field, String fallback) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode value = args.get(field);
        if (!value.isTextual()) {
            throw new IllegalArgumentException("'" + field + "' must be a string");
        }
        return value.asText();
    }

    /** A string that must be one of {@code allowed}. */
    String choice(String field, Set<String> allowed) {
        String value = string(field);
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException("'" + field + "' must be one of " + String.join(", ", allowed.stream().sorted().toList())
                    + ", not '" + value + "'");
        }
        return value;
    }

    boolean bool(String field) {
        if (!has(field)) {
            return false;
        }
        JsonNode value = args.get(field);
        if (!value.isBoolean()) {
            throw new IllegalArgumentException("'" + field + "' must be true or false");
        }
        return value.asBoolean();
    }

    /** A whole number in {@code [min, max]}, or {@code fallback} when absent. */
    long number(String field, long fallback, long min, long max) {
        if (!has(field)) {
            return fallback;
        }
        JsonNode value = args.get(field);
        if (!value.canConvertToLong() || (value.isFloatingPointNumber() && value.asDouble() != Math.rint(value.asDouble()))
                || !value.isNumber() || value.asLong() < min || value.asLong() > max) {
            throw new IllegalArgumentException("'" + field + "' must be a whole number from " + min + " to " + max);
        }
        return value.asLong();
    }

    /** An {@code [x, y]} pair of non-negative whole numbers, or null when absent. */
    int @Nullable [] coordinate(String field) {
        if (!has(field)) {
            return null;
        }
        JsonNode value = args.get(field);
        if (!value.isArray() || value.size() != 2 || !value.get(0).canConvertToInt() || !value.get(1).canConvertToInt()
                || !value.get(0).isIntegralNumber() || !value.get(1).isIntegralNumber()
                || value.get(0).asInt() < 0 || value.get(1).asInt() < 0) {
            throw new IllegalArgumentException("'" + field + "' must be [x, y] with two non-negative whole numbers");
        }
        return new int[] {value.get(0).asInt(), value.get(1).asInt()};
    }

    /** An {@code [x, y]} pair that must be present. */
    int[] requiredCoordinate(String field, String action) {
        int[] xy = coordinate(field);
        if (xy == null) {
            throw new IllegalArgumentException("'" + field + "' ([x, y]) is required for " + action);
        }
        return xy;
    }
}
