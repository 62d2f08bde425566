package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One assistant reply in a {@link Scenario}, with the conditions under which it is given.
 *
 * @param content   the assistant's text ({@code "content"}), or null for none
 * @param toolCalls the tool calls it makes ({@code "tool_calls"}); empty for a plain answer
 * @param expect    a substring that must appear in the tool messages answering the previous
 *                  turn ({@code "expect"}), or null to accept anything
 * @param delay     how long to wait before answering ({@code "delay_ms"}); zero for at once
 * @param fail      HTTP errors to give before the reply ({@code "fail"}), or null for none
 * @param expectImages how many images the messages after the previous turn must carry
 *                  ({@code "expect_images"}), such as a screenshot the tools returned; null to
 *                  accept any number
 */
public record Turn(
        @Nullable String content,
        List<ToolCall> toolCalls,
        @Nullable String expect,
        Duration delay,
        @Nullable InjectedFailure fail,
        @Nullable Integer expectImages) {

    /**
     * Checks and copies the parts.
     *
     * @throws IllegalArgumentException if the turn says nothing and calls nothing, or the delay
     *                                  is negative
     */
    public Turn {
        requireNonNull(toolCalls, "toolCalls");
        requireNonNull(delay, "delay");
        toolCalls = List.copyOf(toolCalls);
        if (content == null && toolCalls.isEmpty()) {
            throw new IllegalArgumentException("a turn needs content or tool calls");
        }
        if (delay.isNegative()) {
            throw new IllegalArgumentException("a turn's delay cannot be negative: " + delay);
        }
        if (expectImages != null && expectImages < 0) {
            throw new IllegalArgumentException("a turn cannot expect a negative number of images: " + expectImages);
        }
    }

    /** A turn that accepts any number of images. */
    public Turn(@Nullable String content, List<ToolCall> toolCalls, @Nullable String expect, Duration delay,
                @Nullable InjectedFailure fail) {
        this(content, toolCalls, expect, delay, fail, null);
    }

    /** A turn that only makes tool calls, at once and without conditions. */
    public static Turn calling(ToolCall... toolCalls) {
        return new Turn(null, List.of(toolCalls), null, Duration.ZERO, null, null);
    }
}
