package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The API keys the server accepts, and the owner id each maps to. With no keys, everyone is the one
 * local owner (the server then listens on loopback only). Keys are held as SHA-256 digests; a key that
 * authenticated is remembered as presented, so the requests after it skip the hash.
 */
public final class ApiKeys {
    /** The owner of every job when no keys are configured. */
    public static final String LOCAL_OWNER = "local";

    private final Map<String, String> ownerByDigest;
    /** Keys seen to authenticate, so each request does not hash its key again. */
    private final Map<String, String> ownerByKey = new ConcurrentHashMap<>();

    private ApiKeys(Map<String, String> ownerByDigest) {
        this.ownerByDigest = ownerByDigest;
    }

    public static ApiKeys of(Set<String> keys) {
        requireNonNull(keys, "keys");
        return new ApiKeys(keys.stream()
                .map(ApiKeys::digest)
                .collect(Collectors.toUnmodifiableMap(Function.identity(), digest -> "key-" + digest.substring(0, 16))));
    }

    public static ApiKeys none() {
        return new ApiKeys(Map.of());
    }

    public boolean enabled() {
        return !ownerByDigest.isEmpty();
    }

    /**
     * The owner for an {@code Authorization} header value, or empty when it does not authenticate.
     * With no keys configured every caller is {@link #LOCAL_OWNER}.
     */
    public Optional<String> authenticate(@Nullable String authorization) {
        if (!enabled()) {
            return Optional.of(LOCAL_OWNER);
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        var key = authorization.substring(7).strip();
        var known = ownerByKey.get(key);
        if (known != null) {
            return Optional.of(known);
        }
        var owner = ownerByDigest.get(digest(key));
        if (owner != null) {
            // Only keys that authenticate are kept, so the cache holds at most one entry per key.
            ownerByKey.put(key, owner);
        }
        return Optional.ofNullable(owner);
    }

    /** The sentence a caller gets when {@link #authenticate} fails. */
    public static String challenge(@Nullable String authorization) {
        return authorization == null
                ? "this server needs an API key: send it as 'Authorization: Bearer <key>'"
                : "the API key is not valid";
    }

    private static String digest(String key) {
        try {
            return HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
