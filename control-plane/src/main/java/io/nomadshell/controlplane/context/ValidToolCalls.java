package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.JsonMissing;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An assistant message made safe to replay: every function call has an id of its own and arguments
 * that are one JSON object. Servers reject a history whose calls carry invalid arguments
 * (llama-server answers 500 to every later request), so arguments that are not a JSON object are
 * replaced by an object that quotes their start, and the error goes back to the model as the call's
 * result. Calls of other kinds than function calls are dropped: nothing can run them.
 */
public final class ValidToolCalls {
    /** How much of invalid arguments the replacement quotes. */
    static final int QUOTED = 200;
    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * @param message the message to record and replay
     * @param errors by call id, why a call's arguments were replaced (the call must not run)
     */
    public record Repaired(ChatCompletionMessage message, Map<String, String> errors) {
        public Repaired {
            requireNonNull(message, "message");
            errors = Map.copyOf(errors);
        }
    }

    private ValidToolCalls() {}

    /** The message with valid calls; ids that are missing or repeated become {@code call_s<step>_<i>}. */
    public static Repaired repair(ChatCompletionMessage message, int step) {
        requireNonNull(message, "message");
        var original = message.toolCalls().orElse(List.of());
        if (original.isEmpty()) {
            // An assistant message needs content or calls to be sent back.
            return new Repaired(message.content().isPresent() ? message : message.toBuilder().content("").build(), Map.of());
        }
        var calls = new ArrayList<ChatCompletionMessageToolCall>();
        var errors = new LinkedHashMap<String, String>();
        var ids = new HashSet<String>();
        boolean changed = false;
        for (var call : original) {
            if (!call.isFunction()) {
                changed = true;
                continue;
            }
            var function = call.asFunction();
            var id = function.id();
            if (id.isBlank() || !ids.add(id)) {
                id = "call_s" + step + "_" + calls.size();
                ids.add(id);
            }
            var name = function.function().name();
            var arguments = function.function().arguments();
            var error = invalid(name, arguments);
            if (error != null) {
                errors.put(id, error);
                arguments = replacement(arguments);
            } else if (arguments.isBlank()) {
                arguments = "{}";
            }
            if (!id.equals(function.id()) || !arguments.equals(function.function().arguments())) {
                changed = true;
                function = ChatCompletionMessageFunctionToolCall.builder().id(id)
                        .function(function.function().toBuilder().arguments(arguments).build())
                        .build();
            }
            calls.add(ChatCompletionMessageToolCall.ofFunction(function));
        }
        if (!changed) {
            return new Repaired(message, Map.of());
        }
        var builder = message.toBuilder();
        if (calls.isEmpty()) {
            builder.toolCalls(JsonMissing.of());
            builder.content(message.content().orElse(""));
        } else {
            builder.toolCalls(calls);
        }
        return new Repaired(builder.build(), errors);
    }

    /** Why {@code arguments} are not one JSON object, or null when they are. */
    private static @Nullable String invalid(String name, String arguments) {
        if (arguments.isBlank()) {
            return null;
        }
        try {
            if (STRICT.readTree(arguments).isObject()) {
                return null;
            }
            return "the arguments of " + name + " must be one JSON object";
        } catch (JsonProcessingException e) {
            var why = e.getOriginalMessage();
            int newline = why.indexOf('\n');
            return "the arguments of " + name + " are not valid JSON (" + (newline < 0 ? why : why.substring(0, newline)).strip() + ")";
        }
    }

    private static String replacement(String arguments) {
        int end = Character.isHighSurrogate(arguments.charAt(Math.min(QUOTED, arguments.length()) - 1)) ? QUOTED - 1 : QUOTED;
        var quoted = arguments.length() > QUOTED ? arguments.substring(0, end) + "…" : arguments;
        try {
            return STRICT.writeValueAsString(Map.of("invalid_arguments", quoted));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
