package io.nomadshell.scriptedmodel;

/**
 * A scenario file that is not valid JSON or not a well-formed {@link Scenario}. The message names
 * the file and the place in it, such as {@code turns[1].tool_calls[0].name}.
 */
public final class ScenarioFormatException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    ScenarioFormatException(String message) {
        super(message);
    }

    ScenarioFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
