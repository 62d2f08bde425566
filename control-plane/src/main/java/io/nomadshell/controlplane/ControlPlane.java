package io.nomadshell.controlplane;

import static java.util.Objects.requireNonNull;

import io.grpc.ServerServiceDefinition;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.CallOutputs;
import io.nomadshell.controlplane.model.ModelClient;
import io.nomadshell.controlplane.agent.ToolCatalogue;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.JobContexts;
import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.dispatch.Dispatcher;
import io.nomadshell.controlplane.egress.EgressDialer;
import io.nomadshell.controlplane.dispatch.JobRunner;
import io.nomadshell.controlplane.launch.ReconcilingLauncher;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.metrics.JobMetrics;
import io.nomadshell.controlplane.session.AttachCredentials;
import io.nomadshell.controlplane.session.AttachService;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.session.PoolClaims;
import io.nomadshell.controlplane.pool.WarmPool;
import io.nomadshell.controlplane.session.SessionRegistry;
import io.nomadshell.controlplane.store.AttachLedger;
import io.nomadshell.controlplane.store.ContextStore;
import io.nomadshell.controlplane.seed.Repositories;
import io.nomadshell.controlplane.seed.Uploads;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.JobQueue;
import io.nomadshell.controlplane.store.JobSignals;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.store.Leases;
import io.nomadshell.controlplane.store.PeerDirectory;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.store.RetentionSweeper;
import io.nomadshell.controlplane.store.SharedSecrets;
import io.nomadshell.controlplane.store.WebhookQueue;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.controlplane.tunnel.JupyterTokens;
import io.nomadshell.controlplane.tunnel.KeptFiles;
import io.nomadshell.controlplane.tunnel.PeerListener;
import io.nomadshell.controlplane.tunnel.Peering;
import io.nomadshell.controlplane.trace.JobTracer;
import io.nomadshell.controlplane.webhook.WebhookAddresses;
import io.nomadshell.controlplane.webhook.WebhookDeliverer;
import io.nomadshell.controlplane.webhook.Webhooks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One control-plane replica, wired: Redis, the job manager, the dispatcher and the Attach service.
 * {@link #close()} stops the parts in the reverse of the order they started.
 */
public final class ControlPlane implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);
    /** The name of the Attach credentials' key among the {@link SharedSecrets}. */
    public static final String ATTACH_KEY = "attach-credentials";
    /** The name of the key replicas sign their requests to each other with. */
    private static final String PEER_KEY = "peers";

    private final Deque<AutoCloseable> closeInOrder = new ArrayDeque<>();
    private @Nullable JobManager jobs;
    private @Nullable ServerServiceDefinition attach;
    private @Nullable JobTunnels tunnels;
    private @Nullable SharedSecrets secrets;
    private final JobMetrics metrics = new JobMetrics();
    private final Dispatcher dispatcher;

    private ControlPlane(ControlPlaneOptions options) throws IOException {
        try {
            this.dispatcher = wire(options);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private Dispatcher wire(ControlPlaneOptions options) throws IOException {
        var dataDir = Files.createDirectories(options.dataDir());
        // Jobs' tasks, transcripts (Redis's files), logs and workspaces: the server's alone. Sandboxes
        // see their own parts through bind mounts, not through this directory.
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        var redisUrl = options.redisUrl();
        if (redisUrl == null) {
            var embedded = remember(EmbeddedRedis.start(dataDir.resolve("redis")));
            redisUrl = embedded.url();
        }
        var redis = remember(RedisConnection.connect(redisUrl, "nomad-shell-" + options.replicaId()));
        // One holder of this replica's leases: the dispatcher takes them, the stores fence writes with them.
        var leases = new Leases(redis);
        var store = new JobStore(redis, options.retention(), leases);
        store.listen(metrics);
        var signals = remember(new JobSignals(redis));
        var queue = remember(new JobQueue(redis, options.replicaId()));
        var sessions = remember(new SessionRegistry(options.heartbeatInterval(), options.reattachWindow()));
        var secrets = new SharedSecrets(redis);
        this.secrets = secrets;
        var secret = tokenSecret(options.tokenSecret(), secrets, dataDir);
        var tokens = new JobTokens(secret, Clock.systemUTC());
        var jupyterTokens = new JupyterTokens(secret);
        // Each file's store is recorded with the job, so that every replica finds the one that serves it.
        var artifacts = new ArtifactStore(dataDir.resolve("artifacts"), store::recordPlacement);
        var peering = new Peering(leases, new PeerDirectory(redis), secrets.get(PEER_KEY), options.replicaId());
        var files = new KeptFiles(artifacts, store, peering);
        var tracer = new JobTracer(options.openTelemetry());
        var model = remember(ModelClient.connect(options.model(), options.context().contextTokens(), tracer));
        int budget = ContextOptions.promptBudget(model.profile().window(), options.model().maxOutputTokens());
        var contexts = new JobContexts(new ContextStore(redis, leases), budget, model.profile(), ToolCatalogue.definitions(),
                AgentLoop.SYSTEM_PROMPT);
        var outputs = remember(new CallOutputs(store, artifacts, options.outputWindow()));
        var agent = new AgentLoop(model, store, options.limits(), contexts, options.context(), outputs,
                options.quotas());
        var workspaces = Files.createDirectories(dataDir.resolve("workspaces"));
        options.launcher().reclaimLeftovers(workspaces);
        // Closed after the dispatcher and the pool, whose jobs and members close their own sandboxes first.
        remember(new SandboxStopper(options.launcher()));
        var credentials = new AttachCredentials(tokens, new AttachLedger(redis));
        var pool = remember(new WarmPool(options.warmPool(), options.resources().defaults(),
                new WarmPool.Members(options.launcher(), sessions, tokens,
                        new PoolClaims(credentials, sessions, jupyterTokens), workspaces, options.readyTimeout()),
                metrics));
        var runner = new JobRunner(store, options.launcher(), pool, sessions, tokens, artifacts, agent,
                workspaces, options.readyTimeout(),
                options.limits().maxDuration().plus(options.readyTimeout()).plusMinutes(15), options.seedLimits(), tracer);
        // Beside the zips, so that replicas which share those share the uploads too.
        var uploads = new Uploads(dataDir.resolve("artifacts").resolve("uploads"), options.seedLimits(),
                options.uploadTtl(), Clock.systemUTC());
        // One dialer for the sandboxes' egress and the control plane's own fetches of git seeds.
        var dialer = new EgressDialer(options.resources().egress(), store);
        var repositories = new Repositories(dialer, options.gitCredentials(), options.seedLimits(),
                // Beside the seeds, so that a packed repository becomes one in a rename on the same file system.
                options.seedFetchTimeout(), dataDir.resolve("artifacts").resolve("git-fetches"));
        var webhookAddresses = new WebhookAddresses(options.webhooks().allowHosts());
        this.jobs = new JobManager(store, signals, artifacts, files, options.resources(), uploads, repositories,
                options.quotas(), tracer, new Webhooks(options.webhooks(), options.webhookSecrets(), webhookAddresses));
        remember(WebhookDeliverer.start(new WebhookQueue(redis), store, options.webhooks(), options.webhookSecrets(),
                webhookAddresses, Clock.systemUTC()));
        remember(RetentionSweeper.start(store, artifacts, uploads));
        if (options.launcher() instanceof ReconcilingLauncher reconciling) {
            remember(reconciling.startReconciling(
                    jobId -> store.find(jobId).map(job -> !job.status().isTerminal()).orElse(false)));
        }
        this.attach = AttachService.definition(credentials, sessions, jupyterTokens);
        var tunnels = remember(new JobTunnels(sessions, jupyterTokens,
                dialer, peering));
        sessions.onAttach(tunnels::attached);
        this.tunnels = tunnels;
        remember(PeerListener.start(options.peerAddress(), tunnels, files, peering));
        var dispatcher = remember(new Dispatcher(queue, store, leases, signals, runner,
                options.replicaId(), options.maxRunning()));
        pool.start(dispatcher::running, options.maxRunning());
        return dispatcher;
    }

    /** Connects to (or starts) Redis and starts dispatching jobs. */
    public static ControlPlane start(ControlPlaneOptions options) throws IOException {
        requireNonNull(options, "options");
        var controlPlane = new ControlPlane(options);
        controlPlane.dispatcher.start();

        log.info("Control plane {} started: up to {} jobs at once, model {}",
                options.replicaId(), options.maxRunning(), options.model().model());
        return controlPlane;
    }

    /**
     * Stops taking queued jobs, so none is started while the rest of the server shuts down; call it
     * first when stopping. Queued jobs stay queued for the next start or another replica.
     */
    public void stopAcceptingJobs() {
        dispatcher.stopTaking();
    }

    public JobManager jobs() {
        return requireNonNull(jobs, "jobs");
    }

    /**
     * The {@code SandboxService} daemons attach to, behind its credential check; serve it on the
     * sandbox-facing listener only, never beside the public API.
     */
    public ServerServiceDefinition attachService() {
        return requireNonNull(attach, "attach");
    }

    /** The keys every replica of this deployment holds alike (kept in Redis), by name. */
    public SharedSecrets sharedSecrets() {
        return requireNonNull(secrets, "secrets");
    }

    /** Meters of this replica's jobs (states, ready time, tool latency, model usage); bind them to a registry. */
    public MeterBinder metrics() {
        return metrics;
    }

    /** Byte streams to ports inside the sandboxes attached to this replica. */
    public JobTunnels tunnels() {
        return requireNonNull(tunnels, "tunnels");
    }

    /** The launcher's last word at stop; a named closer, for the log should it fail. */
    private record SandboxStopper(SandboxLauncher launcher) implements AutoCloseable {
        @Override
        public void close() {
            launcher.stopEverySandbox();
        }
    }

    private <T extends AutoCloseable> T remember(T part) {
        closeInOrder.push(part);
        return part;
    }

    /**
     * The Attach credentials' key: the configured one, else the deployment's shared one (seeded with
     * the key an earlier server kept in its data dir, so the credentials it issued stay valid).
     */
    private static byte[] tokenSecret(byte @Nullable [] given, SharedSecrets shared, Path dataDir) throws IOException {
        if (given != null) {
            return given;
        }
        var file = dataDir.resolve("token.key");
        return Files.exists(file) ? shared.get(ATTACH_KEY, Files.readAllBytes(file)) : shared.get(ATTACH_KEY);
    }

    @Override
    public void close() {
        while (!closeInOrder.isEmpty()) {
            var part = closeInOrder.pop();
            try {
                part.close();
            } catch (Exception e) {
                log.warn("Could not close {} cleanly: {}", part.getClass().getSimpleName(), e.getMessage());
            }
        }
    }
}
