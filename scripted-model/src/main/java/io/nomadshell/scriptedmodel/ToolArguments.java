package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.jspecify.annotations.Nullable;

/**
 * llama-server's rule for the tool calls a request replays: it parses every assistant tool
 * call's {@code arguments} string as JSON to render its chat template, and answers 500 to the
 * whole request when one does not parse (common/chat.cpp, {@code func_args_not_string}). A
 * client that replays a model's broken arguments is thus refused on every later request.
 */
final class ToolArguments {

    /** How much of the arguments the message quotes, as nlohmann's "last read" does. */
    private static final int QUOTED_CHARS = 80;

    private static final JsonMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private ToolArguments() {
    }

    /**
     * Passes arguments that are absent, not a string (already an object) or a string holding JSON.
     *
     * @throws ApiException llama-server's 500 otherwise
     */
    static void requireJson(@Nullable JsonNode arguments) {
        if (arguments == null || !arguments.isTextual()) {
            return;
        }
        String text = arguments.textValue();
        if (text.isBlank()) {
            throw refused("[json.exception.parse_error.101] parse error at line 1, column 1: attempting to parse an"
                    + " empty input; check that your input string or stream contains the expected JSON");
        }
        try {
            STRICT.readTree(text);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String quoted = text.length() > QUOTED_CHARS ? text.substring(text.length() - QUOTED_CHARS) : text;
            throw refused("[json.exception.parse_error.101] parse error" + where
                    + ": syntax error while parsing value; last read: '" + quoted + "'");
        }
    }

    private static ApiException refused(String parseError) {
        return ApiException.llamaServerError("Failed to parse tool call arguments as JSON: " + parseError);
    }
}
