package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.quota.Quotas;
import io.nomadshell.controlplane.webhook.WebhookSecrets;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The API keys the server accepts, the owner id each maps to, and each key's limits. With no keys,
 * everyone is the one local owner (the server then listens on loopback only). Keys are held as SHA-256
 * digests; a key that authenticated is remembered as presented, so the requests after it skip the hash.
 * A key's owner id comes from its digest alone, so naming a key or giving it limits keeps its jobs.
 */
public final class ApiKeys {
    /** The owner of every job when no keys are configured. */
    public static final String LOCAL_OWNER = "local";

    private final Map<String, String> ownerByDigest;
    private final Quotas quotas;
    private final Map<String, byte[]> webhookSecretByOwner;
    /** Keys seen to authenticate, so each request does not hash its key again. */
    private final Map<String, String> ownerByKey = new ConcurrentHashMap<>();

    private ApiKeys(Map<String, String> ownerByDigest, Quotas quotas, Map<String, byte[]> webhookSecretByOwner) {
        this.ownerByDigest = ownerByDigest;
        this.quotas = quotas;
        this.webhookSecretByOwner = webhookSecretByOwner;
    }

    /** Keys without names or limits. */
    public static ApiKeys of(Set<String> keys) {
        requireNonNull(keys, "keys");
        return of(keys.stream().collect(Collectors.toMap(Function.identity(), key -> KeyQuota.unlimited(ownerOf(key)))));
    }

    /** Keys with their names and limits ({@link KeysFile} reads them). */
    public static ApiKeys of(Map<String, KeyQuota> quotaByKey) {
        requireNonNull(quotaByKey, "quotaByKey");
        var ownerByDigest = new HashMap<String, String>();
        var quotaByOwner = new HashMap<String, KeyQuota>();
        quotaByKey.forEach((key, quota) -> {
            var owner = ownerOf(key);
            ownerByDigest.put(digest(key), owner);
            quotaByOwner.put(owner, quota);
        });
        return new ApiKeys(Map.copyOf(ownerByDigest), Quotas.of(quotaByOwner), Map.of());
    }

    public static ApiKeys none() {
        return new ApiKeys(Map.of(), Quotas.none(), Map.of());
    }

    /** These keys, their jobs' webhooks signed with {@code secretByKey} ({@link KeysFile#webhookSecrets}). */
    public ApiKeys withWebhookSecrets(Map<String, byte[]> secretByKey) {
        var byOwner = new HashMap<String, byte[]>();
        requireNonNull(secretByKey, "secretByKey").forEach((key, secret) -> byOwner.put(ownerOf(key), secret.clone()));
        return new ApiKeys(ownerByDigest, quotas, Map.copyOf(byOwner));
    }

    /** Each owner's webhook secret, for the control plane to sign deliveries with. */
    public WebhookSecrets webhookSecrets() {
        return owner -> Optional.ofNullable(webhookSecretByOwner.get(owner)).map(byte[]::clone);
    }

    /** The owner id of a key's jobs: a prefix of its digest, which says nothing of the key. */
    public static String ownerOf(String key) {
        return "key-" + digest(key).substring(0, 16);
    }

    /** The limits of each key, by its owner id; the control plane enforces them. */
    public Quotas quotas() {
        return quotas;
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
