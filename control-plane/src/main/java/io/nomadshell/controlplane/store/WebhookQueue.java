package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The webhook deliveries every replica shares: queued by the status change itself (transition.lua),
 * claimed atomically by one replica at a time (a claim pushes a delivery's due time past the attempt,
 * so a replica that dies mid-attempt leaves it due again), settled only by the claim's holder. A
 * delivery's record is JSON the webhook package reads and rewrites; this class does not look inside.
 */
public final class WebhookQueue {
    private final LuaScript claim;
    private final LuaScript settle;

    public WebhookQueue(RedisConnection connection) {
        requireNonNull(connection, "connection");
        this.claim = LuaScript.load(connection, "webhook_claim.lua");
        this.settle = LuaScript.load(connection, "webhook_settle.lua");
    }

    /** Up to {@code max} deliveries due at {@code now}, each claimed for {@code length}. */
    public List<Claim> claim(Instant now, Duration length, int max) {
        List<Object> flat = claim.run(ScriptOutputType.MULTI, new String[] {Keys.WEBHOOKS_DUE, Keys.WEBHOOKS},
                Long.toString(now.toEpochMilli()), Long.toString(length.toMillis()), Integer.toString(max));
        var claims = new ArrayList<Claim>(flat.size() / 3);
        for (int i = 0; i + 2 < flat.size(); i += 3) {
            claims.add(new Claim((String) flat.get(i), (String) flat.get(i + 1), Long.parseLong((String) flat.get(i + 2))));
        }
        return claims;
    }

    /**
     * Records how the claimed delivery went: {@code nextDue} null drops it (delivered or given up),
     * otherwise it is due again then, with {@code record}. False when the claim ran out and another
     * replica may have it: then nothing is written.
     */
    public boolean settle(Claim claimed, @Nullable Instant nextDue, String record) {
        requireNonNull(claimed, "claimed");
        requireNonNull(record, "record");
        long done = settle.<Long>run(ScriptOutputType.INTEGER, new String[] {Keys.WEBHOOKS_DUE, Keys.WEBHOOKS},
                claimed.id(), Long.toString(claimed.until()),
                nextDue == null ? "done" : Long.toString(nextDue.toEpochMilli()), record);
        return done == 1L;
    }

    /**
     * A delivery this replica holds until {@code until} (ms).
     *
     * @param record its JSON, as queued or as last settled
     */
    public record Claim(String id, String record, long until) {}
}
