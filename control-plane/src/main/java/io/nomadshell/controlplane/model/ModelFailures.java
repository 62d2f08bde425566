package io.nomadshell.controlplane.model;

import com.openai.core.JsonValue;
import com.openai.errors.OpenAIServiceException;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * Names the real cause of a failed model call in words a person can act on, and says whether
 * trying again can help. Status answers carry the server's own message; a refused, reset or
 * timed-out connection says which and after how long.
 */
final class ModelFailures {
    private static final Map<Integer, String> REASONS = Map.ofEntries(
            Map.entry(400, "Bad Request"), Map.entry(401, "Unauthorized"), Map.entry(403, "Forbidden"),
            Map.entry(404, "Not Found"), Map.entry(408, "Request Timeout"), Map.entry(409, "Conflict"),
            Map.entry(413, "Payload Too Large"), Map.entry(422, "Unprocessable Entity"),
            Map.entry(429, "Too Many Requests"), Map.entry(500, "Internal Server Error"),
            Map.entry(501, "Not Implemented"), Map.entry(502, "Bad Gateway"),
            Map.entry(503, "Service Unavailable"), Map.entry(504, "Gateway Timeout"));

    private final String endpoint;
    private final Duration connectTimeout;
    private final Duration idleTimeout;

    ModelFailures(String endpoint, Duration connectTimeout, Duration idleTimeout) {
        this.endpoint = endpoint;
        this.connectTimeout = connectTimeout;
        this.idleTimeout = idleTimeout;
    }

    /**
     * A failure, whether another attempt may succeed, and whether the server had the request
     * (then its prompt counts toward the job, although the server never said what it took).
     */
    record Failure(ModelException exception, boolean retryable, boolean reachedServer, Duration retryAfter) {
        Failure(ModelException exception, boolean retryable, boolean reachedServer) {
            this(exception, retryable, reachedServer, Duration.ZERO);
        }
    }

    /** The longest a server's {@code Retry-After} is waited for before the next attempt. */
    static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

    Failure stalled(long tokensSoFar) {
        return new Failure(new ModelException(ModelException.Kind.STALLED, "the model endpoint at " + endpoint
                + " sent no token for " + seconds(idleTimeout) + ": idle timeout (--model-idle-timeout), after "
                + tokensSoFar + " tokens of the answer"), true, true);
    }

    Failure incomplete() {
        return new Failure(new ModelException(ModelException.Kind.UNREACHABLE, "the model endpoint at " + endpoint
                + " ended its stream before the answer was complete"), true, true);
    }

    /** An answer that is not a well-formed completion (a tool call without an id, say): trying again will not mend it. */
    Failure unreadable(@Nullable String why) {
        return new Failure(new ModelException(ModelException.Kind.REFUSED, "the model endpoint at " + endpoint
                + " sent an answer that cannot be read: " + why), false, true);
    }

    Failure of(Throwable failure) {
        var error = failure;
        while ((error instanceof CompletionException || error instanceof ExecutionException) && error.getCause() != null) {
            error = error.getCause();
        }
        if (error instanceof OpenAIServiceException status) {
            var answered = status(status.statusCode(), serverMessage(status));
            return new Failure(answered.exception(), answered.retryable(), answered.reachedServer(),
                    retryAfter(status.headers().values("retry-after")));
        }
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            switch (cause) {
                case ConnectException refused -> {
                    return unreachable("refused the connection: connection refused (is the server running and listening there?)", true);
                }
                case UnknownHostException unknown -> {
                    return unreachable("cannot be found: its host name is not known (check OPENAI_BASE_URL)", false);
                }
                case NoRouteToHostException noRoute -> {
                    return unreachable("cannot be reached: no route to its host", true);
                }
                case SocketTimeoutException timeout when String.valueOf(timeout.getMessage()).toLowerCase(Locale.ROOT).contains("connect") -> {
                    return unreachable("did not accept the connection within " + seconds(connectTimeout) + ": connect timeout", true);
                }
                case SocketTimeoutException timeout -> {
                    return broken("timed out: " + timeout.getMessage());
                }
                case EOFException eof -> {
                    return broken("closed the connection in the middle of the answer (connection reset)");
                }
                case SocketException reset -> {
                    return broken("closed the connection in the middle of the answer (connection reset: "
                            + reset.getMessage() + ")");
                }
                default -> {
                    if (String.valueOf(cause.getMessage()).contains("unexpected end of stream")) {
                        return broken("closed the connection in the middle of the answer (connection reset)");
                    }
                }
            }
        }
        return broken("failed: " + error.getMessage());
    }

    /** A non-2xx answer, named by its status and the server's own message. */
    Failure status(int code, String message) {
        var lower = message.toLowerCase(Locale.ROOT);
        var words = "the model endpoint at " + endpoint + " answered " + code
                + (REASONS.containsKey(code) ? " " + REASONS.get(code) : "") + ": " + message;
        if (lower.contains("exceed") && lower.contains("context") || lower.contains("maximum context length")
                || lower.contains("context length") || lower.contains("too many tokens") || lower.contains("prompt is too long")) {
            return new Failure(new ModelException(ModelException.Kind.CONTEXT_TOO_LONG, words), false, false);
        }
        if (lower.contains("image input is not supported") || lower.contains("does not support image")
                || lower.contains("image_url") && (lower.contains("not supported") || lower.contains("unsupported"))
                || lower.contains("vision") && lower.contains("not support")) {
            return new Failure(new ModelException(ModelException.Kind.IMAGES_REFUSED, words), false, false);
        }
        if (lower.contains("does not support tools") || lower.contains("tools are not supported")
                || lower.contains("enable-auto-tool-choice")) {
            return new Failure(new ModelException(ModelException.Kind.TOOLS_UNSUPPORTED, words), false, false);
        }
        var hint = switch (code) {
            case 401, 403 -> " (check OPENAI_API_KEY)";
            case 404 -> " (check --model and OPENAI_BASE_URL, which usually ends in /v1)";
            default -> "";
        };
        boolean transientStatus = code == 408 || code == 409 || code == 429 || code >= 500
                && !lower.contains("failed to parse");
        return new Failure(new ModelException(ModelException.Kind.REFUSED, words + hint), transientStatus, false);
    }

    /** The request never reached the server. */
    private Failure unreachable(String what, boolean retryable) {
        return new Failure(new ModelException(ModelException.Kind.UNREACHABLE, "the model endpoint at " + endpoint + " " + what),
                retryable, false);
    }

    /** The connection broke after the request was sent. */
    private Failure broken(String what) {
        return new Failure(new ModelException(ModelException.Kind.UNREACHABLE, "the model endpoint at " + endpoint + " " + what),
                true, true);
    }

    /** How long a rate-limited or busy server asked to be left alone (seconds; an HTTP date is not read), at most {@link #MAX_RETRY_AFTER}. */
    static Duration retryAfter(java.util.List<String> values) {
        for (var value : values) {
            try {
                var seconds = Duration.ofSeconds(Long.parseLong(value.strip()));
                return seconds.isNegative() ? Duration.ZERO : seconds.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : seconds;
            } catch (NumberFormatException e) {
                // an HTTP date: our own backoff applies
            }
        }
        return Duration.ZERO;
    }

    /** The server's own words: {@code error.message} of its JSON body, or the body itself. */
    private static String serverMessage(OpenAIServiceException status) {
        JsonValue body = status.body();
        var text = body.toString();
        try {
            var node = com.openai.core.ObjectMappers.jsonMapper().valueToTree(body);
            var message = node.path("error").isTextual() ? node.path("error").asText()
                    : node.path("error").path("message").asText(node.path("message").asText(""));
            if (!message.isBlank()) {
                text = message;
            }
        } catch (IllegalArgumentException e) {
            // not JSON: the body as it came
        }
        if (text.isBlank() || text.equals("null")) {
            text = String.valueOf(status.getMessage());
        }
        return text.length() > 1_000 ? text.substring(0, 1_000) + "…" : text;
    }

    private static String seconds(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
    }
}
