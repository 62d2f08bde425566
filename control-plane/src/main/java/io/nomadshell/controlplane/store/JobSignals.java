package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Redis pub/sub between replicas: "a job has new events" (published by the Lua scripts) and "cancel
 * this job" (for whichever replica runs it).
 */
public final class JobSignals implements AutoCloseable {
    private final RedisConnection connection;
    private final StatefulRedisPubSubConnection<String, String> subscription;
    private final CopyOnWriteArrayList<Consumer<String>> eventListeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Consumer<String>> cancelListeners = new CopyOnWriteArrayList<>();

    public JobSignals(RedisConnection connection) {
        this.connection = requireNonNull(connection, "connection");
        this.subscription = connection.pubSub();
        subscription.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String jobId) {
                var listeners = Keys.CANCEL_CHANNEL.equals(channel) ? cancelListeners : eventListeners;
                listeners.forEach(listener -> listener.accept(jobId));
            }
        });
        subscription.sync().subscribe(Keys.EVENTS_CHANNEL, Keys.CANCEL_CHANNEL);
    }

    /** Called with a job id whenever that job gets a new event, on a Redis I/O thread: keep it short. */
    public void onEvent(Consumer<String> listener) {
        eventListeners.add(requireNonNull(listener, "listener"));
    }

    /** Called with a job id when any replica asks for that job to be cancelled. */
    public void onCancel(Consumer<String> listener) {
        cancelListeners.add(requireNonNull(listener, "listener"));
    }

    public void publishCancel(String jobId) {
        connection.commands().publish(Keys.CANCEL_CHANNEL, jobId);
    }

    @Override
    public void close() {
        subscription.close();
    }
}
