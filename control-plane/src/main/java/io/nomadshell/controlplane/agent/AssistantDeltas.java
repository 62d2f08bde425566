package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.v1.AssistantDelta;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The assistant's words as the model generates them, for watchers, without an event per token: the
 * first piece of a step goes out at once (watchers see the model start), later ones are held until
 * {@value #MAX_HELD_CHARS} characters or {@value #INTERVAL_MS} ms have gathered, and the rest goes
 * out with {@link #flush} before the step's whole message.
 */
final class AssistantDeltas {
    static final int MAX_HELD_CHARS = 200;
    static final long INTERVAL_MS = 100;

    private final int step;
    private final Consumer<AssistantDelta> publish;
    private final LongSupplier nanoTime;
    private final StringBuilder held = new StringBuilder();
    private boolean started;
    private long lastSent;

    AssistantDeltas(int step, Consumer<AssistantDelta> publish, LongSupplier nanoTime) {
        this.step = step;
        this.publish = requireNonNull(publish, "publish");
        this.nanoTime = requireNonNull(nanoTime, "nanoTime");
    }

    synchronized void onText(String delta) {
        if (delta.isEmpty()) {
            return;
        }
        held.append(delta);
        if (!started || held.length() >= MAX_HELD_CHARS
                || nanoTime.getAsLong() - lastSent >= TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS)) {
            started = true;
            flush();
        }
    }

    /** Whether watchers got any piece of the answer. */
    synchronized boolean sentAny() {
        return started;
    }

    /** Sends what is held. */
    synchronized void flush() {
        if (held.isEmpty()) {
            return;
        }
        publish.accept(AssistantDelta.newBuilder().setStep(step).setText(held.toString()).build());
        held.setLength(0);
        lastSent = nanoTime.getAsLong();
    }
}
