package io.nomadshell.controlplane.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.job.JobStatus;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.store.SessionStore.Checkpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Messages, pauses, checkpoints, rollbacks and forks in a real redis-server. */
class SessionStoreTest {
    private static final KeyQuota UNLIMITED = KeyQuota.unlimited("alice");
    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static JobStore store;
    static SessionStore sessions;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new JobStore(connection, Duration.ofHours(1), new Leases(connection));
        sessions = store.sessions();
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    @Test
    void messagesMoveFromTheInboxToTheTranscriptOnceEach() {
        var id = running();
        assertThat(sessions.postMessage(id, "first")).isEqualTo("running");
        sessions.postMessage(id, "second");
        assertThat(sessions.hasMessages(id)).isTrue();

        var inbox = sessions.takeInbox(id, 3);
        assertThat(inbox.messages()).containsExactly("first", "second");
        assertThat(inbox.pause()).isFalse();
        assertThat(sessions.takeInbox(id, 3).messages()).as("taken once").isEmpty();
        assertThat(connection.commands().lrange(Keys.transcript(id), 0, -1)).hasSize(2)
                .allSatisfy(entry -> assertThat(entry).contains("\"kind\":\"message\"").contains("\"step\":3"));
        assertThat(store.eventsAfter(id, 0, 100).stream().filter(e -> e.hasUserMessage())
                .map(e -> e.getUserMessage().getText()).toList()).containsExactly("first", "second");
        assertThat(sessions.postMessage("no-such-job", "hi")).isEmpty();
    }

    @Test
    void aPauseIsAskedOfAnActiveJobOnly() {
        var id = running();
        assertThat(sessions.requestPause(id, 2)).isEqualTo("running");
        var inbox = sessions.takeInbox(id, 5);
        assertThat(inbox.pause()).isTrue();
        assertThat(inbox.rollbackTo()).isEqualTo(2);
        assertThat(store.find(id).orElseThrow().session().pauseRequested()).isTrue();

        var pending = store.create(JobIds.next(), "alice", "t", SandboxResources.DEFAULT, Instant.now(), null);
        assertThat(sessions.requestPause(pending, null)).isEqualTo("pending");
        assertThat(store.find(pending).orElseThrow().session().pauseRequested()).as("nothing written").isFalse();
    }

    @Test
    void anEndedJobGoesOnWithItsKeysKeptAndIsQueuedAgain() {
        var id = running();
        store.transition(id, JobStatus.COMPLETE, null, Map.of());
        var redisCommands = connection.commands();
        assertThat(redisCommands.pttl(Keys.job(id))).as("an ended job's keys expire").isPositive();
        assertThat(redisCommands.zrange(Keys.ENDED, 0, -1)).contains(id + ":alice");
        long queued = redisCommands.xlen(Keys.QUEUE);

        assertThat(store.goOn(id)).isTrue();

        var job = store.find(id).orElseThrow();
        assertThat(job.status()).isEqualTo(JobStatus.PENDING);
        assertThat(job.finishedAt()).isNull();
        assertThat(redisCommands.pttl(Keys.job(id))).as("no expiry while it goes on").isEqualTo(-1);
        assertThat(redisCommands.pttl(Keys.events(id))).isEqualTo(-1);
        assertThat(redisCommands.zrange(Keys.ENDED, 0, -1)).doesNotContain(id + ":alice");
        assertThat(redisCommands.xlen(Keys.QUEUE)).isEqualTo(queued + 1);
        assertThat(store.goOn(id)).as("only once").isFalse();
    }

    @Test
    void aRollbackKeepsTheConversationAndCheckpointsUpToTheStep() {
        var id = running();
        var c = connection.commands();
        for (int step = 1; step <= 4; step++) {
            c.rpush(Keys.transcript(id), "{\"kind\":\"assistant\",\"step\":" + step + "}",
                    "{\"kind\":\"tool\",\"step\":" + step + "}");
            sessions.recordCheckpoint(id, new Checkpoint(step, "c".repeat(39) + step, step, Instant.now()), 10);
        }
        c.rpush(Keys.transcript(id), "{\"kind\":\"message\",\"step\":3,\"content\":\"before step 3\"}");
        c.hset(Keys.context(id), Map.of("summary", "covers step 3", "condensed_turns", "3", "notes", "kept"));
        assertThat(sessions.rollback(id, 2)).as("only a paused job").isFalse();

        store.transition(id, JobStatus.PAUSED, null, Map.of());
        assertThat(sessions.rollback(id, 2)).isTrue();

        assertThat(c.lrange(Keys.transcript(id), 0, -1)).containsExactly(
                "{\"kind\":\"assistant\",\"step\":1}", "{\"kind\":\"tool\",\"step\":1}",
                "{\"kind\":\"assistant\",\"step\":2}", "{\"kind\":\"tool\",\"step\":2}");
        assertThat(c.hgetall(Keys.context(id))).isEqualTo(Map.of("notes", "kept"));
        assertThat(sessions.checkpoints(id)).extracting(Checkpoint::step).containsExactly(1, 2);
        var job = store.find(id).orElseThrow();
        assertThat(job.steps()).isEqualTo(2);
        assertThat(job.session().restoreStep()).isEqualTo(2);
        assertThat(job.session().checkpointStep()).isEqualTo(2);
        assertThat(store.eventsAfter(id, 0, 100).getLast().getRolledBack().getStep()).isEqualTo(2);
    }

    @Test
    void aForkCopiesTheConversationAndCheckpointsUpToTheStepAndIsQueued() {
        var id = running();
        var c = connection.commands();
        for (int step = 1; step <= 3; step++) {
            c.rpush(Keys.transcript(id), "{\"kind\":\"assistant\",\"step\":" + step + "}");
            sessions.recordCheckpoint(id, new Checkpoint(step, "d".repeat(39) + step, step, Instant.now()), 10);
        }
        var source = store.find(id).orElseThrow();
        var forkId = JobIds.next();
        assertThat(sessions.fork(source, forkId, 7, null, Instant.now(), UNLIMITED)).as("no checkpoint of step 7").isFalse();
        assertThat(store.find(forkId)).isEmpty();

        assertThat(sessions.fork(source, forkId, 2, "try another way", Instant.now(), UNLIMITED)).isTrue();

        var fork = store.find(forkId).orElseThrow();
        assertThat(fork.status()).isEqualTo(JobStatus.PENDING);
        assertThat(fork.owner()).isEqualTo("alice");
        assertThat(fork.task()).isEqualTo(source.task());
        assertThat(fork.sandbox()).isEqualTo(source.sandbox());
        assertThat(fork.session().forkedFrom()).isEqualTo(id);
        assertThat(fork.session().restoreStep()).isEqualTo(2);
        assertThat(c.lrange(Keys.transcript(forkId), 0, -1)).containsExactly(
                "{\"kind\":\"assistant\",\"step\":1}", "{\"kind\":\"assistant\",\"step\":2}");
        assertThat(sessions.checkpoints(forkId)).extracting(Checkpoint::step).containsExactly(1, 2);
        assertThat(sessions.takeInbox(forkId, 3).messages()).containsExactly("try another way");
        assertThat(store.eventsAfter(forkId, 0, 10)).hasSize(2);
        assertThat(c.lrange(Keys.transcript(id), 0, -1)).as("the source is left as it was").hasSize(3);
        assertThat(store.listByOwner("alice", 0, 100).jobs()).extracting(job -> job.id()).contains(forkId);

        // The source runs and the fork waits: a key limited to two is full, and its next fork never exists.
        var another = JobIds.next();
        var refused = catchThrowableOfType(JobException.class, () -> sessions.fork(source, another, 2, null,
                Instant.now(), new KeyQuota("team-a", 2, 0, 0, 0, 0, 0)));
        assertThat(refused.reason()).isEqualTo(JobException.Reason.OVER_QUOTA);
        assertThat(refused.getMessage()).contains("(running_jobs 2)");
        assertThat(store.find(another)).isEmpty();
    }

    private static String running() {
        var id = store.create(JobIds.next(), "alice", "build it", SandboxResources.DEFAULT, Instant.now(), null);
        store.transition(id, JobStatus.STARTING, null, Map.of());
        store.transition(id, JobStatus.RUNNING, null, Map.of());
        return id;
    }
}
