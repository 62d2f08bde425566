package io.nomadshell.cli;

import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.agent.AgentLimits;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.PriceTable;
import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.seed.GitCredentials;
import io.nomadshell.controlplane.launch.SandboxLauncher;
import io.nomadshell.controlplane.launch.local.DaemonCommand;
import io.nomadshell.controlplane.launch.local.LocalLauncher;
import io.nomadshell.controlplane.launch.local.LocalLauncherOptions;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.model.ModelOptions;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.controlplane.pool.ProfilePool;
import io.nomadshell.controlplane.pool.WarmPoolOptions;
import io.nomadshell.controlplane.quota.KeyQuota;
import io.nomadshell.controlplane.webhook.WebhookOptions;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.gateway.auth.KeysFile;
import io.nomadshell.gateway.preview.PreviewOptions;
import io.nomadshell.gateway.server.AttachServer;
import io.nomadshell.gateway.server.GatewayOptions;
import io.nomadshell.gateway.server.GatewayServer;
import io.nomadshell.proto.seed.SeedLimits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Everything a server is configured with: flags, each with the environment variable that sets it
 * when the flag is absent.
 */
final class ServerSettings {
    @Option(names = "--port", defaultValue = "${env:NOMAD_SHELL_PORT:-8080}",
            description = "Port for gRPC and REST (env NOMAD_SHELL_PORT; default ${DEFAULT-VALUE}).")
    int port = GatewayOptions.DEFAULT_PORT;

    @Option(names = "--preview-port", defaultValue = "${env:NOMAD_SHELL_PREVIEW_PORT:-8081}",
            description = "Port where sandbox web servers are previewed, each on its own origin (env NOMAD_SHELL_PREVIEW_PORT; default ${DEFAULT-VALUE}; 0 picks a free one).")
    int previewPort = PreviewOptions.DEFAULT_PORT;

    @Option(names = "--preview-domain", defaultValue = "${env:NOMAD_SHELL_PREVIEW_DOMAIN:-localhost}",
            description = "Previews are http://p<port>-<job id>.<domain>:<preview port>/ (env NOMAD_SHELL_PREVIEW_DOMAIN; default ${DEFAULT-VALUE}, which browsers resolve to loopback; another domain needs a wildcard DNS record).")
    String previewDomain = PreviewOptions.DEFAULT_DOMAIN;

    @Option(names = "--data-dir", defaultValue = "${env:NOMAD_SHELL_DATA_DIR:-${sys:user.home}/.nomad-shell}",
            description = "Jobs' workspaces, zips and the embedded Redis's files (env NOMAD_SHELL_DATA_DIR; default ${DEFAULT-VALUE}).")
    Path dataDir = Path.of(System.getProperty("user.home"), ".nomad-shell");

    @Option(names = "--redis-url", defaultValue = "${env:REDIS_URL}",
            description = "Redis to keep jobs in (env REDIS_URL): redis://, rediss://, redis-socket:// or redis-sentinel://host1:26379,host2:26379#primary; without it a private redis-server runs under the data dir.")
    @Nullable String redisUrl;

    @Option(names = "--api-keys", split = ",", defaultValue = "${env:NOMAD_SHELL_API_KEYS}",
            description = "Comma-separated API keys callers must present (env NOMAD_SHELL_API_KEYS). Without keys the server listens on loopback only.")
    String @Nullable [] apiKeys;

    @Option(names = "--listen-address", defaultValue = "${env:NOMAD_SHELL_LISTEN_ADDRESS}",
            description = "The one IP address the API and the previews listen on, e.g. a node's own address under host "
                    + "networking (env NOMAD_SHELL_LISTEN_ADDRESS; default: every address with API keys, loopback without).")
    @Nullable String listenAddress;

    @Option(names = "--api-keys-file", defaultValue = "${env:NOMAD_SHELL_API_KEYS_FILE}",
            description = "A file with one API key per line, each optionally followed by its name, limits and webhook "
                    + "secret, e.g. 'KEY name=team-a running_jobs=4 tokens_per_day=2000000 webhook_secret=...' "
                    + "(env NOMAD_SHELL_API_KEYS_FILE; see the README).")
    @Nullable Path apiKeysFile;

    @Option(names = "--metrics-public", defaultValue = "${env:NOMAD_SHELL_METRICS_PUBLIC:-false}",
            description = "Serve /metrics without an API key, for a Prometheus scraper (env NOMAD_SHELL_METRICS_PUBLIC).")
    boolean metricsPublic;

    @Option(names = "--openai-base-url", defaultValue = "${env:OPENAI_BASE_URL}",
            description = "Any OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 (env OPENAI_BASE_URL).")
    @Nullable String openAiBaseUrl;

    @Option(names = "--openai-api-key", defaultValue = "${env:OPENAI_API_KEY}",
            description = "Key for the model endpoint (env OPENAI_API_KEY).")
    @Nullable String openAiApiKey;

    @Option(names = "--model", defaultValue = "${env:NOMAD_SHELL_MODEL:-" + ModelOptions.DEFAULT_MODEL + "}",
            description = "Model name (env NOMAD_SHELL_MODEL; default ${DEFAULT-VALUE}).")
    String model = ModelOptions.DEFAULT_MODEL;

    @Option(names = "--max-output-tokens", defaultValue = "${env:NOMAD_SHELL_MAX_OUTPUT_TOKENS:-" + ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS + "}",
            description = "The most tokens one model answer may take, never more than the window has left (env NOMAD_SHELL_MAX_OUTPUT_TOKENS; default ${DEFAULT-VALUE}).")
    int maxOutputTokens = ModelOptions.DEFAULT_MAX_OUTPUT_TOKENS;

    @Option(names = "--model-idle-timeout", defaultValue = "${env:NOMAD_SHELL_MODEL_IDLE_TIMEOUT:-60s}",
            converter = DurationConverter.class,
            description = "End a model answer that streams no token for this long, e.g. 60s or 2m (env NOMAD_SHELL_MODEL_IDLE_TIMEOUT; default ${DEFAULT-VALUE}).")
    Duration modelIdleTimeout = ModelOptions.DEFAULT_IDLE_TIMEOUT;

    @Option(names = "--retention", defaultValue = "${env:NOMAD_SHELL_RETENTION:-7d}",
            converter = DurationConverter.class,
            description = "Keep an ended job's events, transcript, zip and screenshots this long, e.g. 12h or 30d; a job that has not ended is always kept (env NOMAD_SHELL_RETENTION; default ${DEFAULT-VALUE}).")
    Duration retention = JobStore.DEFAULT_RETENTION;

    @Option(names = "--seed-max-mb", defaultValue = "${env:NOMAD_SHELL_SEED_MAX_MB:-64}",
            description = "The most an uploaded seed archive may hold unpacked, in MiB; a job's disk caps its seed further (env NOMAD_SHELL_SEED_MAX_MB; default ${DEFAULT-VALUE}).")
    int seedMaxMb = 64;

    @Option(names = "--seed-max-entries", defaultValue = "${env:NOMAD_SHELL_SEED_MAX_ENTRIES:-10000}",
            description = "The most entries (files, directories, links) an uploaded seed archive may hold (env NOMAD_SHELL_SEED_MAX_ENTRIES; default ${DEFAULT-VALUE}).")
    int seedMaxEntries = 10_000;

    @Option(names = "--seed-fetch-timeout", defaultValue = "${env:NOMAD_SHELL_SEED_FETCH_TIMEOUT:-2m}",
            converter = DurationConverter.class,
            description = "The most time fetching a job's git seed may take, e.g. 30s or 5m; Schedule waits for it (env NOMAD_SHELL_SEED_FETCH_TIMEOUT; default ${DEFAULT-VALUE}).")
    Duration seedFetchTimeout = ControlPlaneOptions.DEFAULT_SEED_FETCH_TIMEOUT;

    @Option(names = "--seed-git-credentials", paramLabel = "FILE", defaultValue = "${env:NOMAD_SHELL_SEED_GIT_CREDENTIALS}",
            description = "A file of credentials for private git hosts, one 'HOST USERNAME:PASSWORD' a line; a job seeded from such a host uses it unless it brings its own (env NOMAD_SHELL_SEED_GIT_CREDENTIALS; default: none).")
    @Nullable Path seedGitCredentials;

    @Option(names = "--upload-ttl", defaultValue = "${env:NOMAD_SHELL_UPLOAD_TTL:-1h}",
            converter = DurationConverter.class,
            description = "Delete an upload no job has taken after this long, e.g. 30m or 1d (env NOMAD_SHELL_UPLOAD_TTL; default ${DEFAULT-VALUE}).")
    Duration uploadTtl = ControlPlaneOptions.DEFAULT_UPLOAD_TTL;

    @Option(names = "--max-running", defaultValue = "${env:NOMAD_SHELL_MAX_RUNNING:-4}",
            description = "Jobs run at once; the rest wait (env NOMAD_SHELL_MAX_RUNNING; default ${DEFAULT-VALUE}).")
    int maxRunning = 4;

    @Option(names = "--warm-pool", defaultValue = "${env:NOMAD_SHELL_WARM_POOL:-0}",
            description = "Sandboxes of the default profile kept started and attached for jobs to claim; 0 starts each with its job (env NOMAD_SHELL_WARM_POOL; default ${DEFAULT-VALUE}).")
    int warmPool = 0;

    @Option(names = "--warm-pool-profile", paramLabel = "PROFILE:SIZE",
            defaultValue = "${env:NOMAD_SHELL_WARM_POOL_PROFILES:-}",
            description = "A warm pool for jobs that ask for other resources, repeatable: e.g. cpu=2000,memory=2048:2 keeps 2 "
                    + "sandboxes for jobs granted exactly 2000 MHz and 2048 MiB (disk and egress as by default). Keys: cpu (MHz), "
                    + "memory (MiB), disk (MiB), egress (hosts joined by +, or none); those left out are the server's defaults. "
                    + "A job claims only a member of its exact profile (env NOMAD_SHELL_WARM_POOL_PROFILES, space-separated; default: none).")
    List<String> warmPoolProfiles = List.of();

    @Option(names = "--warm-pool-ttl", defaultValue = "${env:NOMAD_SHELL_WARM_POOL_TTL:-10m}",
            converter = DurationConverter.class,
            description = "Replace a warm-pool sandbox idle this long, e.g. 10m (env NOMAD_SHELL_WARM_POOL_TTL; default ${DEFAULT-VALUE}).")
    Duration warmPoolTtl = WarmPoolOptions.DEFAULT_TTL;

    @Option(names = "--warm-pool-memory-mb", defaultValue = "${env:NOMAD_SHELL_WARM_POOL_MEMORY_MB:-0}",
            description = "Memory (MiB) the idle warm-pool sandboxes of all profiles may hold together: what they use (PSS) with the local launcher, their memory reservations on Nomad; 0 is an eighth of this host's memory (env NOMAD_SHELL_WARM_POOL_MEMORY_MB; default ${DEFAULT-VALUE}).")
    long warmPoolMemoryMb = 0;

    @Option(names = "--max-steps", defaultValue = "${env:NOMAD_SHELL_MAX_STEPS:-50}",
            description = "Steps per job: model answers that were acted on (nudges, retries and summaries are not steps) (env NOMAD_SHELL_MAX_STEPS; default ${DEFAULT-VALUE}).")
    int maxSteps = 50;

    @Option(names = "--max-job-minutes", defaultValue = "${env:NOMAD_SHELL_MAX_JOB_MINUTES:-30}",
            description = "Wall time per job (env NOMAD_SHELL_MAX_JOB_MINUTES; default ${DEFAULT-VALUE}).")
    long maxJobMinutes = 30;

    @Option(names = "--context-tokens", defaultValue = "${env:NOMAD_SHELL_CONTEXT_TOKENS:-0}",
            description = "The model's context window in tokens, at least 1024: prompts get it less room for the answer (env NOMAD_SHELL_CONTEXT_TOKENS; default: what the model server says, else the table of known models).")
    int contextTokens;

    @Option(names = "--max-job-tokens", defaultValue = "${env:NOMAD_SHELL_MAX_JOB_TOKENS:-0}",
            description = "Prompt plus completion tokens a job may use; 0 for no limit (env NOMAD_SHELL_MAX_JOB_TOKENS).")
    long maxJobTokens;

    @Option(names = "--max-job-cost-usd", defaultValue = "${env:NOMAD_SHELL_MAX_JOB_COST_USD:-0}",
            description = "What a job's model calls may cost in US dollars; 0 for no limit (env NOMAD_SHELL_MAX_JOB_COST_USD).")
    double maxJobCostUsd;

    @Option(names = "--model-prices", defaultValue = "${env:NOMAD_SHELL_MODEL_PRICES:-}",
            description = "Prices overriding the built-in table, in dollars per million prompt/completion tokens: model=1.25/10,... (env NOMAD_SHELL_MODEL_PRICES).")
    String modelPrices = "";

    @Option(names = "--sandbox-memory-mb", defaultValue = "${env:NOMAD_SHELL_SANDBOX_MEMORY_MB:-1024}",
            description = "Memory of a sandbox unless the job asks (default ${DEFAULT-VALUE}).")
    long sandboxMemoryMb = 1024;

    @Option(names = "--sandbox-pids", defaultValue = "${env:NOMAD_SHELL_SANDBOX_PIDS:-256}",
            description = "Process limit of each sandbox (default ${DEFAULT-VALUE}).")
    int sandboxPids = 256;

    @Option(names = "--sandbox-reattach-window", defaultValue = "${env:NOMAD_SHELL_SANDBOX_REATTACH_WINDOW:-60s}",
            converter = DurationConverter.class,
            description = "How long a sandbox whose Attach stream broke keeps redialing, for this or another replica to take it back, before it ends, e.g. 30s or 5m (env NOMAD_SHELL_SANDBOX_REATTACH_WINDOW; default ${DEFAULT-VALUE}).")
    Duration sandboxReattachWindow = ControlPlaneOptions.DEFAULT_REATTACH_WINDOW;

    @Mixin
    SandboxSettings sandboxes = new SandboxSettings();

    @Option(names = "--egress-allow", defaultValue = "${env:NOMAD_SHELL_EGRESS_ALLOW:-}",
            description = "Hosts a job may ask to reach through its sandbox's egress proxy (egress.allow), comma-separated: "
                    + "names, IP addresses, *.example.org for subdomains, * for any (env NOMAD_SHELL_EGRESS_ALLOW; default: none).")
    String egressAllow = "";

    @Option(names = "--egress-allow-private", defaultValue = "${env:NOMAD_SHELL_EGRESS_ALLOW_PRIVATE:-}",
            description = "Address blocks egress may reach although loopback, private, link-local or otherwise special, "
                    + "comma-separated CIDRs such as 10.1.0.0/16 (env NOMAD_SHELL_EGRESS_ALLOW_PRIVATE; default: none).")
    String egressAllowPrivate = "";

    @Option(names = "--webhook-allow-hosts", defaultValue = "${env:NOMAD_SHELL_WEBHOOK_ALLOW_HOSTS:-}",
            description = "Hosts a job's callback_url may name, comma-separated: host, host:port, *.domain or an IP address; "
                    + "without a port, the scheme's own (80, 443). A loopback or private address is reached only when "
                    + "listed itself (env NOMAD_SHELL_WEBHOOK_ALLOW_HOSTS; default: none, webhooks off).")
    String webhookAllowHosts = "";

    @Option(names = "--webhook-retry-for", defaultValue = "${env:NOMAD_SHELL_WEBHOOK_RETRY_FOR:-1h}",
            converter = DurationConverter.class,
            description = "How long a webhook delivery is retried after the status change it tells of, e.g. 30m or 6h "
                    + "(env NOMAD_SHELL_WEBHOOK_RETRY_FOR; default ${DEFAULT-VALUE}).")
    Duration webhookRetryFor = WebhookOptions.DEFAULT_RETRY_FOR;

    @Mixin
    AttachSettings attach = new AttachSettings();

    @Option(names = "--peer-address", defaultValue = "${env:NOMAD_SHELL_PEER_ADDRESS:-127.0.0.1:0}",
            description = "HOST:PORT where the other replicas of this deployment reach the sandboxes attached to this one, "
                    + "to carry previews, desktops and port-forwards that reach them (env NOMAD_SHELL_PEER_ADDRESS; default "
                    + "${DEFAULT-VALUE}, a free loopback port: replicas on one machine). Listened on and advertised in Redis; "
                    + "with replicas on several hosts, an address of this host on their private network.")
    String peerAddress = "127.0.0.1:0";

    @Option(names = "--daemon-jar", defaultValue = "${env:NOMAD_SHELL_DAEMON_JAR}",
            description = "The agent daemon's jar, with its lib/ beside it (env NOMAD_SHELL_DAEMON_JAR).")
    @Nullable Path daemonJar;

    /**
     * A running control plane, its gateway and its Attach listener; close stops the gateway first, and
     * sends the last spans once the control plane has stopped.
     */
    record Running(ControlPlane controlPlane, GatewayServer gateway, AttachServer attach, ServerTelemetry telemetry)
            implements AutoCloseable {
        @Override
        public void close() {
            controlPlane.stopAcceptingJobs();
            try {
                gateway.close();
                attach.close();
            } finally {
                try {
                    controlPlane.close();
                } finally {
                    telemetry.close();
                }
            }
        }
    }

    Running start() throws IOException {
        var model = modelOptions();
        var keys = apiKeys();
        var listen = listenAddress(keys);
        var home = Files.createDirectories(dataDir.toAbsolutePath());
        var socket = sandboxes.attachSocket(home);
        var maxDuration = Duration.ofMinutes(maxJobMinutes);
        var policy = sandboxes.policy((int) sandboxMemoryMb, maxDuration, egressPolicy());
        var poolOptions = warmPoolOptions(policy);
        var attachOptions = attach.options(home, socket, sandboxes.attachHost());
        var attachTls = attachOptions.tls();
        SandboxLauncher launcher = sandboxes.nomad()
                ? sandboxes.nomadLauncher(socket, attachTls == null ? null : attachTls.ca(), attachTls != null,
                        policy.defaults())
                : LocalLauncher.of(launcherOptions(home, socket));
        var telemetry = ServerTelemetry.fromEnvironment();
        ControlPlane controlPlane;
        try {
            controlPlane = start(home, launcher, model, maxDuration, policy, poolOptions, keys, telemetry);
        } catch (IOException | RuntimeException e) {
            telemetry.close();
            throw e;
        }
        AttachServer attachServer = null;
        try {
            attachServer = AttachServer.start(controlPlane, attachOptions);
            return new Running(controlPlane, GatewayServer.start(controlPlane, new GatewayOptions(port, keys,
                    new PreviewOptions(previewPort, previewDomain), metricsPublic, listen)), attachServer, telemetry);
        } catch (IOException | RuntimeException e) {
            if (attachServer != null) {
                attachServer.close();
            }
            controlPlane.close();
            telemetry.close();
            throw e;
        }
    }

    private ControlPlane start(Path home, SandboxLauncher launcher, ModelOptions model, Duration maxDuration,
            ResourcePolicy policy, WarmPoolOptions poolOptions, ApiKeys keys, ServerTelemetry telemetry) throws IOException {
        return ControlPlane.start(ControlPlaneOptions.builder()
                .dataDir(home)
                .redisUrl(redisUrl)
                .maxRunning(maxRunning)
                .launcher(launcher)
                .model(model)
                .limits(new AgentLimits(maxSteps, maxDuration, Duration.ofMinutes(10)))
                .context(contextOptions())
                .resources(policy)
                .retention(retention)
                .seedLimits(seedLimits())
                .uploadTtl(uploadTtl)
                .seedFetchTimeout(seedFetchTimeout)
                .reattachWindow(reattachWindow())
                .gitCredentials(gitCredentials())
                .warmPool(poolOptions)
                .peerAddress(peerAddress())
                .quotas(keys.quotas())
                .openTelemetry(telemetry.openTelemetry())
                .webhooks(webhookOptions())
                .webhookSecrets(keys.webhookSecrets())
                .build());
    }

    private SeedLimits seedLimits() {
        if (seedMaxMb < 1 || seedMaxEntries < 1 || !uploadTtl.isPositive()) {
            throw new UserError("--seed-max-mb and --seed-max-entries must be at least 1, and --upload-ttl positive");
        }
        return new SeedLimits(seedMaxMb * 1024L * 1024L, seedMaxEntries);
    }

    private Duration reattachWindow() {
        if (!sandboxReattachWindow.isPositive() || sandboxReattachWindow.toMillis() > Integer.MAX_VALUE) {
            throw new UserError("--sandbox-reattach-window must be positive and under 24 days");
        }
        return sandboxReattachWindow;
    }

    private GitCredentials gitCredentials() {
        if (!seedFetchTimeout.isPositive()) {
            throw new UserError("--seed-fetch-timeout must be positive");
        }
        if (seedGitCredentials == null) {
            return GitCredentials.NONE;
        }
        try {
            return GitCredentials.read(seedGitCredentials);
        } catch (NoSuchFileException e) {
            throw new UserError("--seed-git-credentials: no such file: " + seedGitCredentials);
        } catch (IOException e) {
            throw new UserError("--seed-git-credentials: cannot read " + seedGitCredentials + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private WarmPoolOptions warmPoolOptions(ResourcePolicy policy) {
        if (warmPool < 0 || warmPoolMemoryMb < 0 || !warmPoolTtl.isPositive()) {
            throw new UserError("--warm-pool and --warm-pool-memory-mb must be 0 or more, and --warm-pool-ttl positive");
        }
        try {
            // The environment variable holds several, space-separated; a profile holds no space.
            var profiles = warmPoolProfiles.stream().flatMap(specs -> Arrays.stream(specs.strip().split("\\s+")))
                    .filter(spec -> !spec.isBlank()).map(spec -> ProfilePool.parse(spec, policy)).toList();
            for (var profile : profiles) {
                if (profile.serves(policy.defaults())) {
                    throw new IllegalArgumentException(profile.label() + " is the default profile: size its pool with --warm-pool");
                }
            }
            return new WarmPoolOptions(warmPool, profiles, warmPoolTtl,
                    warmPoolMemoryMb == 0 ? WarmPoolOptions.defaultMemoryBytes() : warmPoolMemoryMb << 20);
        } catch (IllegalArgumentException e) {
            throw new UserError("--warm-pool-profile: " + e.getMessage());
        }
    }

    private WebhookOptions webhookOptions() {
        if (!webhookRetryFor.isPositive()) {
            throw new UserError("--webhook-retry-for must be positive");
        }
        try {
            return WebhookOptions.NONE.withAllowHosts(WebhookOptions.parseHosts(webhookAllowHosts))
                    .withRetries(webhookRetryFor, WebhookOptions.DEFAULT_FIRST_RETRY);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    /** Parsed here; what the address may be is the control plane's to say. */
    private InetSocketAddress peerAddress() {
        return HostPorts.parse("--peer-address", peerAddress.strip());
    }

    private ModelOptions modelOptions() {
        if (openAiApiKey == null && openAiBaseUrl == null) {
            throw new UserError("no model endpoint: set OPENAI_API_KEY, or OPENAI_BASE_URL for another "
                    + "OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, ...)");
        }
        // Local endpoints take any key; the client insists on one.
        try {
            return new ModelOptions(openAiBaseUrl, openAiApiKey != null ? openAiApiKey : "unused", model, 2,
                    maxOutputTokens, modelIdleTimeout);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private EgressPolicy egressPolicy() {
        try {
            return EgressPolicy.parse(egressAllow, egressAllowPrivate);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private ContextOptions contextOptions() {
        try {
            return new ContextOptions(contextTokens, maxJobTokens, maxJobCostUsd, PriceTable.parse(modelPrices));
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
    }

    private LocalLauncherOptions launcherOptions(Path dataDir, Path socket) {
        var located = daemonJar != null ? daemonJar : DaemonJar.locate();
        var jar = located != null ? located.toAbsolutePath() : null;
        if (jar == null || !Files.isRegularFile(jar)) {
            throw new UserError("the agent daemon's jar was not found" + (jar == null ? "" : " at " + jar)
                    + ": build it (./nomad-shell builds on first use) or set NOMAD_SHELL_DAEMON_JAR");
        }
        return DaemonCommand.configure(LocalLauncherOptions.builder(), jar)
                .attachSocket(socket)
                .memoryLimitBytes(sandboxMemoryMb * 1024 * 1024)
                .pidsLimit(sandboxPids)
                .diskLimitBytes(sandboxes.diskMb * (1L << 20))
                .sandboxUidBase(sandboxes.uidBase)
                .logDirectory(dataDir.resolve("sandbox-logs"))
                .build();
    }

    /** --listen-address as an IP literal (never a name to resolve); a non-loopback one only with API keys. */
    @Nullable InetAddress listenAddress(ApiKeys keys) {
        if (listenAddress == null || listenAddress.isBlank()) {
            return null;
        }
        var literal = listenAddress.strip();
        InetAddress address;
        try {
            // Only a literal: getByName then parses it and asks no resolver.
            if (!literal.matches("[0-9.]{7,15}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
                throw new UnknownHostException(literal);
            }
            address = InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new UserError("--listen-address must be an IP address such as 10.0.0.5 or 127.0.0.1, not '"
                    + literal + "'");
        }
        if (!keys.enabled() && !address.isLoopbackAddress()) {
            throw new UserError("--listen-address " + address.getHostAddress() + " needs API keys (--api-keys, "
                    + "NOMAD_SHELL_API_KEYS): without them the server listens on loopback only");
        }
        return address;
    }

    private ApiKeys apiKeys() throws IOException {
        var keys = new HashMap<String, KeyQuota>();
        Map<String, byte[]> secrets = Map.of();
        if (apiKeysFile != null) {
            try {
                var lines = Files.readAllLines(apiKeysFile);
                keys.putAll(KeysFile.parse(lines));
                secrets = KeysFile.webhookSecrets(lines);
            } catch (IllegalArgumentException e) {
                throw new UserError("--api-keys-file " + apiKeysFile + ": " + e.getMessage());
            }
        }
        if (apiKeys != null) {
            Arrays.stream(apiKeys).map(String::strip).filter(k -> !k.isEmpty())
                    .forEach(key -> keys.putIfAbsent(key, KeyQuota.unlimited(ApiKeys.ownerOf(key))));
        }
        return keys.isEmpty() ? ApiKeys.none() : ApiKeys.of(keys).withWebhookSecrets(secrets);
    }
}
