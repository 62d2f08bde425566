package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.webhook.WebhookSecrets;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
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
 *
 * <p>A keys file has one key a line, optionally followed by settings of that key:
 * {@code KEY webhook_secret=SECRET} gives the key the secret its jobs' webhooks are signed with
 * (a key without one may not ask for webhooks). Blank lines and lines starting with {@code #} are skipped.
 */
public final class ApiKeys {
    /** The owner of every job when no keys are configured. */
    public static final String LOCAL_OWNER = "local";

    /** The setting of a keys-file line that holds the key's webhook secret. */
    public static final String WEBHOOK_SECRET = "webhook_secret";
    private static final int MIN_SECRET_LENGTH = 16;

    private final Map<String, String> ownerByDigest;
    private final Map<String, byte[]> webhookSecretByOwner;
    /** Keys seen to authenticate, so each request does not hash its key again. */
    private final Map<String, String> ownerByKey = new ConcurrentHashMap<>();

    private ApiKeys(Map<String, String> ownerByDigest, Map<String, byte[]> webhookSecretByOwner) {
        this.ownerByDigest = ownerByDigest;
        this.webhookSecretByOwner = webhookSecretByOwner;
    }

    public static ApiKeys of(Set<String> keys) {
        requireNonNull(keys, "keys");
        return new ApiKeys(keys.stream()
                .map(ApiKeys::digest)
                .collect(Collectors.toUnmodifiableMap(Function.identity(), ApiKeys::ownerOfDigest)), Map.of());
    }

    /**
     * The keys of a keys file's lines ({@code KEY [webhook_secret=SECRET]}), plus {@code bare} keys without settings.
     *
     * @throws IllegalArgumentException naming the line that is not a key with known settings
     */
    public static ApiKeys parse(List<String> lines, Set<String> bare) {
        var owners = new HashMap<String, String>();
        var secrets = new HashMap<String, byte[]>();
        requireNonNull(bare, "bare").forEach(key -> owners.put(digest(key), ownerOfDigest(digest(key))));
        for (int n = 1; n <= lines.size(); n++) {
            var line = lines.get(n - 1).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            var words = line.split("\\s+");
            var digest = digest(words[0]);
            var owner = ownerOfDigest(digest);
            owners.put(digest, owner);
            for (var setting : Arrays.asList(words).subList(1, words.length)) {
                if (!setting.startsWith(WEBHOOK_SECRET + "=")) {
                    // The key itself is never repeated in the message: it may be in a log.
                    throw new IllegalArgumentException("API keys file, line " + n + ": unknown setting '"
                            + setting.split("=", 2)[0] + "' (known: " + WEBHOOK_SECRET + "=...)");
                }
                var secret = setting.substring(WEBHOOK_SECRET.length() + 1);
                if (secret.length() < MIN_SECRET_LENGTH) {
                    throw new IllegalArgumentException("API keys file, line " + n + ": the webhook secret must be at least "
                            + MIN_SECRET_LENGTH + " characters (e.g. openssl rand -hex 32)");
                }
                secrets.put(owner, secret.getBytes(StandardCharsets.UTF_8));
            }
        }
        return new ApiKeys(Map.copyOf(owners), Map.copyOf(secrets));
    }

    public static ApiKeys none() {
        return new ApiKeys(Map.of(), Map.of());
    }

    /** Each owner's webhook secret, for the control plane to sign deliveries with. */
    public WebhookSecrets webhookSecrets() {
        return owner -> Optional.ofNullable(webhookSecretByOwner.get(owner)).map(byte[]::clone);
    }

    private static String ownerOfDigest(String digest) {
        return "key-" + digest.substring(0, 16);
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
