package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

/**
 * HTTP errors a {@link Turn} gives before its reply, to exercise a client's retries.
 *
 * <p>In the scenario file: {@code "fail": {"status": 500, "message": "...", "times": 2}}. The first
 * {@code times} requests for the turn in each conversation get the error in OpenAI's format;
 * conversations are told apart by the text of their first user message.
 *
 * @param status  the HTTP status, 400 to 599
 * @param message the error's message
 * @param times   how many requests fail before the turn is played, at least 1
 */
public record InjectedFailure(int status, String message, int times) {

    /** The message when the scenario gives none, as OpenAI words a server error. */
    public static final String DEFAULT_MESSAGE =
            "The server had an error while processing your request. Sorry about that!";

    /**
     * Checks the parts.
     *
     * @throws IllegalArgumentException if the status is not an HTTP error or times is below 1
     */
    public InjectedFailure {
        requireNonNull(message, "message");
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("a failure's status must be 400 to 599, not " + status);
        }
        if (times < 1) {
            throw new IllegalArgumentException("a failure's times must be at least 1, not " + times);
        }
    }
}
