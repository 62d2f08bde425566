package io.nomadshell.controlplane.bench;

import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.session.AttachCredentials;
import io.nomadshell.controlplane.session.AttachService;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.controlplane.store.AttachLedger;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.tunnel.JupyterTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;

/**
 * The Attach service on a Unix socket with its real credential check (a Redis ledger), as the
 * server runs it, for benchmarks that attach real daemons; and the peer they compare with.
 */
final class AttachStack implements AutoCloseable {
    final Path socket;
    final JobTokens tokens;
    final SessionRegistry sessions;
    private final EmbeddedRedis redis;
    private final RedisConnection connection;
    private final AttachSocketServer server;

    private AttachStack(Path socket, JobTokens tokens, SessionRegistry sessions, EmbeddedRedis redis,
                        RedisConnection connection, AttachSocketServer server) {
        this.socket = socket;
        this.tokens = tokens;
        this.sessions = sessions;
        this.redis = redis;
        this.connection = connection;
        this.server = server;
    }

    static AttachStack start(Path dataDir) throws Exception {
        var socket = dataDir.resolve("attach/attach.sock");
        Files.createDirectories(socket.getParent());
        var secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        var tokens = new JobTokens(secret, Clock.systemUTC());
        var redis = EmbeddedRedis.start(dataDir.resolve("redis"));
        var sessions = new SessionRegistry(Duration.ofSeconds(5), ControlPlaneOptions.DEFAULT_REATTACH_WINDOW);
        RedisConnection connection = null;
        try {
            connection = RedisConnection.connect(redis.url(), "bench");
            var server = AttachSocketServer.serve(socket, AttachService.definition(
                    new AttachCredentials(tokens, new AttachLedger(connection)), sessions, new JupyterTokens(secret)));
            return new AttachStack(socket, tokens, sessions, redis, connection, server);
        } catch (Exception e) {
            // Nothing started here outlives a failed start (Redis is a process of its own).
            if (connection != null) {
                connection.close();
            }
            sessions.close();
            redis.close();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        try (redis; connection; sessions; server) {
            // Closed in reverse order: the server, the sessions, the connection, Redis.
        }
    }
}
