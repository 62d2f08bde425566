package io.nomadshell.controlplane.store;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Pending jobs, handed out to replicas through one Redis consumer group: each queued job goes to
 * one replica; one that dies before acknowledging leaves it to be reclaimed by another.
 */
public final class JobQueue implements AutoCloseable {
    private final RedisConnection connection;
    private final StatefulRedisConnection<String, String> blocking;
    private final Consumer<String> consumer;

    public JobQueue(RedisConnection connection, String consumerName) {
        this.connection = requireNonNull(connection, "connection");
        this.consumer = Consumer.from(Keys.QUEUE_GROUP, requireNonNull(consumerName, "consumerName"));
        try {
            connection.write(redis -> redis.xgroupCreate(XReadArgs.StreamOffset.from(Keys.QUEUE, "0"),
                    Keys.QUEUE_GROUP, XGroupCreateArgs.Builder.mkstream()));
        } catch (RedisBusyException alreadyThere) {
            // Another replica (or an earlier run) created the group.
        }
        this.blocking = connection.dedicated();
    }

    /** Waits up to {@code block} for the next job nobody has taken. */
    public Optional<QueuedJob> take(Duration block) {
        List<StreamMessage<String, String>> messages = blocking.sync().xreadgroup(consumer,
                XReadArgs.Builder.count(1).block(block), XReadArgs.StreamOffset.lastConsumed(Keys.QUEUE));
        return messages.stream().findFirst().map(JobQueue::toQueuedJob);
    }

    /** Takes over jobs another consumer received but has not acknowledged for {@code minIdle}. */
    public List<QueuedJob> reclaimStale(Duration minIdle) {
        var claimed = connection.write(redis -> redis.xautoclaim(Keys.QUEUE,
                XAutoClaimArgs.Builder.xautoclaim(consumer, minIdle, "0-0").count(10)));
        return claimed.getMessages().stream().map(JobQueue::toQueuedJob).toList();
    }

    public void acknowledge(QueuedJob job) {
        connection.write(redis -> {
            redis.xack(Keys.QUEUE, Keys.QUEUE_GROUP, job.entryId());
            return redis.xdel(Keys.QUEUE, job.entryId());
        });
    }

    private static QueuedJob toQueuedJob(StreamMessage<String, String> message) {
        return new QueuedJob(message.getId(), message.getBody().get("job_id"));
    }

    @Override
    public void close() {
        blocking.close();
    }
}
