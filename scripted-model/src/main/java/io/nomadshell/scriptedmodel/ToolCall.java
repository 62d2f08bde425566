package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

/**
 * A function call the scripted assistant makes.
 *
 * <p>In the scenario file it is {@code {"name": ..., "arguments": {...}}}, or
 * {@code {"name": ..., "arguments_raw": "..."}} to send arguments that are not valid JSON, as real
 * models sometimes do.
 *
 * @param name      the tool's name; the request must offer a tool by that name
 * @param arguments the arguments exactly as sent in {@code function.arguments}: normally a JSON
 *                  object's text, but deliberately anything for {@code arguments_raw}
 */
public record ToolCall(String name, String arguments) {

    /**
     * Checks the parts.
     *
     * @throws IllegalArgumentException if the name is blank
     */
    public ToolCall {
        requireNonNull(name, "name");
        requireNonNull(arguments, "arguments");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a tool call needs a name");
        }
    }
}
