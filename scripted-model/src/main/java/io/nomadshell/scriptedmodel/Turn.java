package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One assistant reply in a {@link Scenario}, with the conditions under which it is given and how
 * it is delivered.
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
 * @param cut       whether the answer ends with {@code finish_reason: "length"} ({@code "cut"}),
 *                  as an answer cut by the output cap; its tool calls are sent as written (give
 *                  them truncated {@code arguments_raw} to look like a real cut)
 * @param tokenDelay the pause between the deltas of a streamed answer ({@code "token_delay_ms"});
 *                  zero sends them at once
 * @param stallAfter for a streamed answer, how long after its start the stream stops sending
 *                  while keeping the connection open ({@code "stall_after_ms"}); a plain answer
 *                  is then never sent at all. Null never stalls
 */
public record Turn(
        @Nullable String content,
        List<ToolCall> toolCalls,
        @Nullable String expect,
        Duration delay,
        @Nullable InjectedFailure fail,
        @Nullable Integer expectImages,
        boolean cut,
        Duration tokenDelay,
        @Nullable Duration stallAfter) {

    /**
     * Checks and copies the parts.
     *
     * @throws IllegalArgumentException if the turn says nothing and calls nothing, or a delay
     *                                  is negative
     */
    public Turn {
        requireNonNull(toolCalls, "toolCalls");
        requireNonNull(delay, "delay");
        requireNonNull(tokenDelay, "tokenDelay");
        toolCalls = List.copyOf(toolCalls);
        if (content == null && toolCalls.isEmpty()) {
            throw new IllegalArgumentException("a turn needs content or tool calls");
        }
        if (delay.isNegative() || tokenDelay.isNegative() || (stallAfter != null && stallAfter.isNegative())) {
            throw new IllegalArgumentException("a turn's delays cannot be negative: " + delay + ", " + tokenDelay
                    + ", " + stallAfter);
        }
        if (expectImages != null && expectImages < 0) {
            throw new IllegalArgumentException("a turn cannot expect a negative number of images: " + expectImages);
        }
    }

    /** A turn delivered at once and whole, that is not cut. */
    public Turn(@Nullable String content, List<ToolCall> toolCalls, @Nullable String expect, Duration delay,
                @Nullable InjectedFailure fail, @Nullable Integer expectImages) {
        this(content, toolCalls, expect, delay, fail, expectImages, false, Duration.ZERO, null);
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

    /** A plain answer, at once and without conditions. */
    public static Turn saying(String content) {
        return new Turn(content, List.of(), null, Duration.ZERO, null, null);
    }
}
