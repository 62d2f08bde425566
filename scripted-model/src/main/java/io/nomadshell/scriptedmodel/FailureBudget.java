package io.nomadshell.scriptedmodel;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the requests for each (conversation, turn) that carries an {@link InjectedFailure}, so
 * the first {@code times} of them fail and the rest succeed.
 */
final class FailureBudget {

    private record Key(String conversation, int turn) {
    }

    // Only turns with a failure are ever counted, so the map grows with the conversations that
    // reach such turns, not with traffic.
    private final ConcurrentMap<Key, AtomicInteger> attempts = new ConcurrentHashMap<>();

    /** Records one request and tells whether it is among the first {@code failure.times()}. */
    boolean shouldFail(String conversation, int turn, InjectedFailure failure) {
        int attempt = attempts.computeIfAbsent(new Key(conversation, turn), k -> new AtomicInteger())
                .incrementAndGet();
        return attempt <= failure.times();
    }
}
