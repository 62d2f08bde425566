package io.nomadshell.controlplane;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.agent.AgentLimits;
import io.nomadshell.controlplane.agent.CallOutputs;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.pool.WarmPoolOptions;
import io.nomadshell.controlplane.quota.Quotas;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import io.nomadshell.controlplane.seed.GitCredentials;
import io.nomadshell.controlplane.webhook.WebhookOptions;
import io.nomadshell.controlplane.webhook.WebhookSecrets;
import io.opentelemetry.api.OpenTelemetry;
import io.nomadshell.proto.seed.SeedLimits;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * How a control plane runs. Build with {@link #builder()}; change one with {@link #toBuilder()}.
 *
 * @param dataDir jobs' workspaces, zips, the token secret and (when embedded) Redis's files
 * @param redisUrl a Redis of the operator's; null starts a private redis-server under dataDir
 * @param replicaId this replica's name in the queue's consumer group and in leases
 * @param maxRunning jobs this replica runs at once; more wait in the queue
 * @param tokenSecret the HMAC key of Attach tokens (shared by replicas); null takes the deployment's, kept in Redis
 * @param readyTimeout how long a sandbox's daemon may take to attach
 * @param heartbeatInterval how often each side of an Attach stream proves it is alive
 * @param reattachWindow how long a daemon whose stream broke keeps redialing (for this or another
 *     replica to let it back in) before it gives up and its sandbox ends
 * @param context the prompt's token budget and what a job may spend
 * @param resources what a job's sandbox gets and may ask for
 * @param retention how long an ended job's keys, zip and screenshots are kept
 * @param outputWindow how long a call's live output may wait to be written with what follows (zero: every chunk at once)
 * @param warmPool sandboxes of the default profile kept started for jobs to claim
 * @param seedLimits caps on an uploaded seed archive, unpacked (a job's disk caps its seed further)
 * @param uploadTtl how long an upload no job has taken is kept
 * @param seedFetchTimeout how long fetching a job's git seed may take
 * @param gitCredentials the operator's credentials for private git hosts
 * @param quotas the limits of each API key, by the owner id its jobs carry
 * @param openTelemetry where jobs' spans go: the server's SDK, or the no-op (the default)
 * @param webhooks where jobs' webhooks may go, and how long they are retried
 * @param webhookSecrets each owner's webhook secret, which signs its deliveries
 * @param peerAddress where other replicas reach this one's sandboxes (port 0: a free one); its host is
 *     what they dial, so it must be one they can reach
 */
public record ControlPlaneOptions(
        Path dataDir,
        @Nullable String redisUrl,
        String replicaId,
        int maxRunning,
        SandboxLauncher launcher,
        ModelOptions model,
        AgentLimits limits,
        byte @Nullable [] tokenSecret,
        Duration readyTimeout,
        Duration heartbeatInterval,
        Duration reattachWindow,
        ContextOptions context,
        ResourcePolicy resources,
        Duration retention,
        Duration outputWindow,
        WarmPoolOptions warmPool,
        InetSocketAddress peerAddress,
        SeedLimits seedLimits,
        Duration uploadTtl,
        Duration seedFetchTimeout,
        GitCredentials gitCredentials,
        Quotas quotas,
        OpenTelemetry openTelemetry,
        WebhookOptions webhooks,
        WebhookSecrets webhookSecrets) {

    public ControlPlaneOptions {
        requireNonNull(quotas, "quotas");
        requireNonNull(webhooks, "webhooks");
        requireNonNull(webhookSecrets, "webhookSecrets");
        requireNonNull(dataDir, "dataDir");
        requireNonNull(replicaId, "replicaId");
        requireNonNull(launcher, "launcher");
        requireNonNull(model, "model");
        requireNonNull(limits, "limits");
        requireNonNull(readyTimeout, "readyTimeout");
        requireNonNull(heartbeatInterval, "heartbeatInterval");
        if (!requireNonNull(reattachWindow, "reattachWindow").isPositive() || reattachWindow.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the reattach window must be positive and under 24 days");
        }
        requireNonNull(context, "context");
        requireNonNull(resources, "resources");
        requireNonNull(retention, "retention");
        requireNonNull(outputWindow, "outputWindow");
        if (retention.toMillis() < 1) {
            throw new IllegalArgumentException("retention must be positive");
        }
        requireNonNull(warmPool, "warmPool");
        requireNonNull(peerAddress, "peerAddress");
        requireNonNull(seedLimits, "seedLimits");
        if (!requireNonNull(uploadTtl, "uploadTtl").isPositive()) {
            throw new IllegalArgumentException("the upload TTL must be positive");
        }
        if (!requireNonNull(seedFetchTimeout, "seedFetchTimeout").isPositive()) {
            throw new IllegalArgumentException("the seed fetch timeout must be positive");
        }
        requireNonNull(gitCredentials, "gitCredentials");
        requireNonNull(openTelemetry, "openTelemetry");
        if (peerAddress.isUnresolved()) {
            throw new IllegalArgumentException("the peer address's host " + peerAddress.getHostString()
                    + " does not resolve (--peer-address)");
        }
        if (peerAddress.getAddress().isAnyLocalAddress()) {
            throw new IllegalArgumentException("the peer address (--peer-address) is what other replicas dial: "
                    + "name this host's address on their network, not " + peerAddress.getHostString());
        }
        if (maxRunning < 1) {
            throw new IllegalArgumentException("maxRunning must be at least 1");
        }
    }

    /** Replicas on one machine: loopback, on a free port. */
    public static final InetSocketAddress DEFAULT_PEER_ADDRESS = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** As long as a daemon waits by its own default: a minute for a replica to take its job over. */
    public static final Duration DEFAULT_REATTACH_WINDOW = Duration.ofSeconds(60);

    /** How long an upload waits for a job to take it, by default. */
    public static final Duration DEFAULT_UPLOAD_TTL = Duration.ofHours(1);

    /** How long fetching a git seed may take, by default. */
    public static final Duration DEFAULT_SEED_FETCH_TIMEOUT = Duration.ofMinutes(2);

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder()
                .dataDir(dataDir).redisUrl(redisUrl).replicaId(replicaId).maxRunning(maxRunning)
                .launcher(launcher).model(model).limits(limits).tokenSecret(tokenSecret)
                .readyTimeout(readyTimeout).heartbeatInterval(heartbeatInterval).reattachWindow(reattachWindow).context(context)
                .resources(resources).retention(retention).outputWindow(outputWindow)
                .warmPool(warmPool).peerAddress(peerAddress).seedLimits(seedLimits).uploadTtl(uploadTtl)
                .seedFetchTimeout(seedFetchTimeout).gitCredentials(gitCredentials)
                .quotas(quotas)
                .openTelemetry(openTelemetry)
                .webhooks(webhooks).webhookSecrets(webhookSecrets);
    }

    /** Builds {@link ControlPlaneOptions}; launcher, model and dataDir have no default. */
    public static final class Builder {
        private @Nullable Path dataDir;
        private @Nullable String redisUrl;
        private String replicaId = defaultReplicaId();
        private int maxRunning = 4;
        private @Nullable SandboxLauncher launcher;
        private @Nullable ModelOptions model;
        private AgentLimits limits = AgentLimits.DEFAULT;
        private byte @Nullable [] tokenSecret;
        private Duration readyTimeout = Duration.ofSeconds(60);
        private Duration heartbeatInterval = Duration.ofSeconds(5);
        private Duration reattachWindow = DEFAULT_REATTACH_WINDOW;
        private ContextOptions context = ContextOptions.DEFAULT;
        private ResourcePolicy resources = ResourcePolicy.DEFAULT;
        private Duration retention = JobStore.DEFAULT_RETENTION;
        private Duration outputWindow = CallOutputs.DEFAULT_WINDOW;
        private WarmPoolOptions warmPool = WarmPoolOptions.NONE;
        private InetSocketAddress peerAddress = DEFAULT_PEER_ADDRESS;
        private Duration seedFetchTimeout = DEFAULT_SEED_FETCH_TIMEOUT;
        private GitCredentials gitCredentials = GitCredentials.NONE;
        private OpenTelemetry openTelemetry = OpenTelemetry.noop();
        private SeedLimits seedLimits = SeedLimits.DEFAULTS;
        private Duration uploadTtl = DEFAULT_UPLOAD_TTL;
        private Quotas quotas = Quotas.none();
        private WebhookOptions webhooks = WebhookOptions.NONE;
        private WebhookSecrets webhookSecrets = WebhookSecrets.NONE;

        private Builder() {}

        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder redisUrl(@Nullable String redisUrl) {
            this.redisUrl = redisUrl;
            return this;
        }

        public Builder replicaId(String replicaId) {
            this.replicaId = replicaId;
            return this;
        }

        public Builder maxRunning(int maxRunning) {
            this.maxRunning = maxRunning;
            return this;
        }

        public Builder launcher(SandboxLauncher launcher) {
            this.launcher = launcher;
            return this;
        }

        public Builder model(ModelOptions model) {
            this.model = model;
            return this;
        }

        public Builder limits(AgentLimits limits) {
            this.limits = limits;
            return this;
        }

        public Builder tokenSecret(byte @Nullable [] tokenSecret) {
            this.tokenSecret = tokenSecret;
            return this;
        }

        public Builder readyTimeout(Duration readyTimeout) {
            this.readyTimeout = readyTimeout;
            return this;
        }

        public Builder heartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = heartbeatInterval;
            return this;
        }

        public Builder reattachWindow(Duration reattachWindow) {
            this.reattachWindow = reattachWindow;
            return this;
        }

        public Builder context(ContextOptions context) {
            this.context = context;
            return this;
        }

        /** The sandbox resources jobs get and may ask for; default {@link ResourcePolicy#DEFAULT}. */
        public Builder resources(ResourcePolicy resources) {
            this.resources = resources;
            return this;
        }

        /** How long an ended job's keys, zip and screenshots are kept; default {@link JobStore#DEFAULT_RETENTION}. */
        public Builder retention(Duration retention) {
            this.retention = retention;
            return this;
        }

        /** How long live output may wait to be coalesced; default {@link CallOutputs#DEFAULT_WINDOW}, zero for none. */
        public Builder outputWindow(Duration outputWindow) {
            this.outputWindow = outputWindow;
            return this;
        }

        /** The warm pool; default {@link WarmPoolOptions#NONE}. */
        public Builder warmPool(WarmPoolOptions warmPool) {
            this.warmPool = warmPool;
            return this;
        }

        /** Where other replicas reach this one's sandboxes; default {@link #DEFAULT_PEER_ADDRESS}. */
        public Builder peerAddress(InetSocketAddress peerAddress) {
            this.peerAddress = peerAddress;
            return this;
        }

        public Builder seedLimits(SeedLimits seedLimits) {
            this.seedLimits = seedLimits;
            return this;
        }

        public Builder uploadTtl(Duration uploadTtl) {
            this.uploadTtl = uploadTtl;
            return this;
        }

        public Builder seedFetchTimeout(Duration seedFetchTimeout) {
            this.seedFetchTimeout = seedFetchTimeout;
            return this;
        }

        public Builder gitCredentials(GitCredentials gitCredentials) {
            this.gitCredentials = gitCredentials;
            return this;
        }

        /** The limits of each API key; default {@link Quotas#none()}. */
        public Builder quotas(Quotas quotas) {
            this.quotas = quotas;
            return this;
        }

        /** Where jobs' spans go; default the no-op. */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = openTelemetry;
            return this;
        }

        /** Where webhooks may go; default {@link WebhookOptions#NONE} (none). */
        public Builder webhooks(WebhookOptions webhooks) {
            this.webhooks = webhooks;
            return this;
        }

        public Builder webhookSecrets(WebhookSecrets webhookSecrets) {
            this.webhookSecrets = webhookSecrets;
            return this;
        }

        public ControlPlaneOptions build() {
            return new ControlPlaneOptions(requireNonNull(dataDir, "dataDir"), redisUrl, replicaId, maxRunning,
                    requireNonNull(launcher, "launcher"), requireNonNull(model, "model"), limits, tokenSecret,
                    readyTimeout, heartbeatInterval, reattachWindow, requireNonNull(context, "context"), resources, retention,
                    outputWindow, warmPool, peerAddress, seedLimits, uploadTtl, seedFetchTimeout, gitCredentials,
                    quotas, openTelemetry, webhooks, webhookSecrets);
        }

        private static String defaultReplicaId() {
            return ProcessHandle.current().info().user().orElse("cp") + "-" + ProcessHandle.current().pid()
                    + "-" + Long.toHexString(System.nanoTime() & 0xffff);
        }
    }
}
