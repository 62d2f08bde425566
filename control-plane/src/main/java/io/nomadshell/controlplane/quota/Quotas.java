package io.nomadshell.controlplane.quota;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/** The limits of each API key, by the owner id its jobs carry; an owner not named has none. */
public final class Quotas {
    private static final Quotas NONE = new Quotas(Map.of());

    private final Map<String, KeyQuota> byOwner;

    private Quotas(Map<String, KeyQuota> byOwner) {
        this.byOwner = byOwner;
    }

    public static Quotas of(Map<String, KeyQuota> byOwner) {
        return new Quotas(Map.copyOf(requireNonNull(byOwner, "byOwner")));
    }

    /** No owner has limits. */
    public static Quotas none() {
        return NONE;
    }

    /** The limits of {@code owner}'s key; without any, none, under the owner's id. */
    public KeyQuota of(String owner) {
        requireNonNull(owner, "owner");
        var quota = byOwner.get(owner);
        return quota != null ? quota : KeyQuota.unlimited(owner);
    }

    /** Every owner named, with its key's limits. */
    public Map<String, KeyQuota> all() {
        return byOwner;
    }
}
