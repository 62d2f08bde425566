package io.nomadshell.scriptedmodel;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.jspecify.annotations.Nullable;

/** The API-key check: requests must carry {@code Authorization: Bearer <key>} when a key is set. */
final class BearerAuth {

    private static final String PREFIX = "Bearer ";

    private final byte @Nullable [] key;

    BearerAuth(@Nullable String key) {
        this.key = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Passes if no key is configured or the header carries it.
     *
     * @throws ApiException with status 401, worded as OpenAI words it
     */
    void check(@Nullable String authorization) {
        if (key == null) {
            return;
        }
        if (authorization == null || !authorization.startsWith(PREFIX)) {
            throw new ApiException(401, "invalid_request_error", null,
                    "You didn't provide an API key. You need to provide your API key in an Authorization header"
                            + " using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        }
        byte[] presented = authorization.substring(PREFIX.length()).strip().getBytes(StandardCharsets.UTF_8);
        // Constant-time, so the check does not leak the key to a patient caller.
        if (!MessageDigest.isEqual(key, presented)) {
            throw new ApiException(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.");
        }
    }
}
