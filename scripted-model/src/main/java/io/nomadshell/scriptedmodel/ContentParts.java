package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Checks a message's {@code content} when it is an array of parts, as the real API does: every
 * part has a known type, images only in user messages, and an image URL is https or a base64
 * data URL of an image type whose data decodes.
 */
final class ContentParts {

    private static final Pattern DATA_URL = Pattern.compile("data:image/(png|jpeg|gif|webp);base64,(.*)", Pattern.DOTALL);
    private static final Set<String> USER_TYPES = Set.of("text", "image_url", "input_audio", "file");
    private static final Set<String> OTHER_TYPES = Set.of("text", "refusal");

    private ContentParts() {}

    /** Checks {@code content} of the message at {@code at}; returns how many images it holds. */
    static int check(@Nullable JsonNode content, String at, String role) {
        if (content == null || content.isNull() || content.isTextual()) {
            return 0;
        }
        if (!content.isArray()) {
            throw ApiException.invalidRequest("Invalid type for '" + at + ".content': expected one of a string or"
                    + " array of objects, but got " + (content.isObject() ? "an object" : "a " + content.getNodeType().name().toLowerCase()) + " instead.");
        }
        int images = 0;
        for (int i = 0; i < content.size(); i++) {
            JsonNode part = content.get(i);
            String partAt = at + ".content[" + i + "]";
            String type = part.path("type").asText("");
            Set<String> allowed = role.equals("user") ? USER_TYPES : OTHER_TYPES;
            if (type.equals("image_url") && !role.equals("user")) {
                throw ApiException.invalidRequest("Invalid '" + partAt + "': image_url parts are only allowed in"
                        + " messages with role 'user', but this message has role '" + role + "'.");
            }
            if (!allowed.contains(type)) {
                throw ApiException.invalidRequest("Invalid value: '" + type + "'. Supported values are: "
                        + String.join(", ", allowed.stream().sorted().map(t -> "'" + t + "'").toList()) + ". at '"
                        + partAt + ".type'");
            }
            if (type.equals("text") && !part.path("text").isTextual()) {
                throw ApiException.invalidRequest("Missing required parameter: '" + partAt + ".text'.");
            }
            if (type.equals("image_url")) {
                checkImageUrl(part.path("image_url").path("url"), partAt + ".image_url.url");
                images++;
            }
        }
        return images;
    }

    private static void checkImageUrl(JsonNode url, String at) {
        if (!url.isTextual()) {
            throw ApiException.invalidRequest("Missing required parameter: '" + at + "'.");
        }
        String value = url.textValue();
        if (value.startsWith("https://") || value.startsWith("http://")) {
            return;
        }
        Matcher data = DATA_URL.matcher(value);
        if (!data.matches()) {
            throw ApiException.invalidRequest("Invalid '" + at + "'. Expected a base64-encoded data URL with an image"
                    + " MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value that is not.");
        }
        try {
            if (Base64.getDecoder().decode(data.group(2)).length == 0) {
                throw new IllegalArgumentException("empty");
            }
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidRequest("You uploaded an unsupported image at '" + at
                    + "'. Please make sure your image is valid base64 data.");
        }
    }
}
