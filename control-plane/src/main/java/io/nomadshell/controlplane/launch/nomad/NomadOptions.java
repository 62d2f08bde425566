package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * How the {@link NomadLauncher} reaches Nomad and what it asks Nomad to run.
 *
 * @param address the Nomad agent's HTTP address ({@code NOMAD_ADDR})
 * @param token the ACL token ({@code NOMAD_TOKEN}); never logged
 * @param region the region ({@code NOMAD_REGION}); null for the agent's own
 * @param namespace the namespace ({@code NOMAD_NAMESPACE}); null for the default
 * @param image the sandbox image the docker driver runs
 * @param runtime the container runtime: {@code runc}, or {@code runsc} for gVisor
 * @param attachTarget the control plane's Attach address as the daemon in the container dials it
 * @param attachSocketDirectory the host directory holding the Attach socket, mounted into
 *     sandboxes at {@code /run/nomad-shell} (Nomad client and control plane on one host); null
 *     when daemons dial a TCP address
 * @param jobPrefix the id of the sandbox parent jobs, and the start of every dispatched one
 * @param placementTimeout how long a sandbox may wait for a node with room before the job fails
 * @param stopTimeout how long stopping a sandbox may take before the launcher stops waiting
 * @param retention how long finished dispatched jobs stay visible in Nomad before being purged
 * @param reconcileInterval how often dispatched jobs are compared with the jobs in Redis
 * @param orphanGrace how long a sandbox may outlive its job before the reconciler stops it (its
 *     own control plane closes it sooner, letting the daemon exit by itself first)
 * @param attachCa the CA certificate (PEM) daemons trust for Attach over TLS at a TCP address;
 *     empty for the Unix socket, or to trust the image's system authorities
 * @param attachPeers the other replicas' Attach addresses as daemons dial them, which a daemon tries
 *     after {@code attachTarget} when its stream breaks: whichever replica takes its job over lets it in
 */
public record NomadOptions(
        URI address,
        @Nullable String token,
        @Nullable String region,
        @Nullable String namespace,
        String image,
        String runtime,
        String attachTarget,
        @Nullable Path attachSocketDirectory,
        String jobPrefix,
        Duration placementTimeout,
        Duration stopTimeout,
        Duration retention,
        Duration reconcileInterval,
        Duration orphanGrace,
        String attachCa,
        List<String> attachPeers) {

    public static final String DEFAULT_ADDRESS = "http://127.0.0.1:4646";
    public static final String DEFAULT_IMAGE = "nomad-shell-sandbox:local";
    /** Where the Attach socket directory appears inside a sandbox (see sandbox.nomad.hcl). */
    public static final String SOCKET_MOUNT = "/run/nomad-shell";

    public NomadOptions {
        requireNonNull(address, "address");
        requireNonNull(image, "image");
        requireNonNull(runtime, "runtime");
        requireNonNull(attachTarget, "attachTarget");
        requireNonNull(jobPrefix, "jobPrefix");
        requireNonNull(placementTimeout, "placementTimeout");
        requireNonNull(stopTimeout, "stopTimeout");
        requireNonNull(retention, "retention");
        requireNonNull(reconcileInterval, "reconcileInterval");
        requireNonNull(orphanGrace, "orphanGrace");
        requireNonNull(attachCa, "attachCa");
        attachPeers = List.copyOf(requireNonNull(attachPeers, "attachPeers"));
        if (!jobPrefix.matches("[a-z0-9][a-z0-9-]{0,40}")) {
            throw new IllegalArgumentException("the Nomad job prefix must be 1 to 41 lowercase letters, digits and dashes,"
                    + " starting with a letter or digit, not \"" + jobPrefix + "\"");
        }
        if (namespace != null && !namespace.matches("[a-zA-Z0-9-]{1,128}")) {
            throw new IllegalArgumentException("a Nomad namespace is 1 to 128 letters, digits and dashes, not \""
                    + namespace + "\"");
        }
    }

    /** Every Attach address a daemon may dial, this replica's first, as one comma-separated value. */
    public String attachTargets() {
        var targets = new ArrayList<String>();
        targets.add(attachTarget);
        attachPeers.stream().filter(peer -> !peer.equals(attachTarget)).forEach(targets::add);
        return String.join(",", targets);
    }

    /** Options from {@code NOMAD_ADDR}, {@code NOMAD_TOKEN}, {@code NOMAD_REGION} and {@code NOMAD_NAMESPACE}. */
    public static Builder fromEnv(Map<String, String> env) {
        requireNonNull(env, "env");
        var builder = builder().address(URI.create(nonBlank(env.get("NOMAD_ADDR"), DEFAULT_ADDRESS)));
        builder.token = blankToNull(env.get("NOMAD_TOKEN"));
        builder.region = blankToNull(env.get("NOMAD_REGION"));
        builder.namespace = blankToNull(env.get("NOMAD_NAMESPACE"));
        return builder;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "NomadOptions[address=" + address + ", token=" + (token == null ? "none" : "(redacted)")
                + ", region=" + region + ", namespace=" + namespace + ", image=" + image + ", runtime=" + runtime
                + ", attachTarget=" + attachTarget + ", attachSocketDirectory=" + attachSocketDirectory
                + ", jobPrefix=" + jobPrefix + "]";
    }

    private static String nonBlank(@Nullable String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value.strip();
    }

    private static @Nullable String blankToNull(@Nullable String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** Builds {@link NomadOptions}; the Attach address is required (see {@link #attachSocket}). */
    public static final class Builder {
        private URI address = URI.create(DEFAULT_ADDRESS);
        private @Nullable String token;
        private @Nullable String region;
        private @Nullable String namespace;
        private String image = DEFAULT_IMAGE;
        private String runtime = "runc";
        private @Nullable String attachTarget;
        private @Nullable Path attachSocketDirectory;
        private String attachCa = "";
        private List<String> attachPeers = List.of();
        private String jobPrefix = "nomad-shell-sandbox";
        private Duration placementTimeout = Duration.ofSeconds(60);
        private Duration stopTimeout = Duration.ofSeconds(15);
        private Duration retention = Duration.ofHours(1);
        private Duration reconcileInterval = Duration.ofSeconds(30);
        private Duration orphanGrace = Duration.ofSeconds(30);

        private Builder() {}

        public Builder address(URI address) {
            this.address = requireNonNull(address, "address");
            return this;
        }

        public Builder token(@Nullable String token) {
            this.token = token;
            return this;
        }

        public Builder region(@Nullable String region) {
            this.region = region;
            return this;
        }

        public Builder namespace(@Nullable String namespace) {
            this.namespace = namespace;
            return this;
        }

        public Builder image(String image) {
            this.image = requireNonNull(image, "image");
            return this;
        }

        public Builder runtime(String runtime) {
            this.runtime = requireNonNull(runtime, "runtime");
            return this;
        }

        /**
         * Daemons dial the control plane's Attach Unix socket at {@code socket}, whose directory is
         * mounted into each sandbox: for a Nomad client on the control plane's host.
         */
        public Builder attachSocket(Path socket) {
            var absolute = requireNonNull(socket, "socket").toAbsolutePath();
            this.attachSocketDirectory = requireNonNull(absolute.getParent(), "socket directory");
            this.attachTarget = "unix://" + SOCKET_MOUNT + "/" + absolute.getFileName();
            return this;
        }

        /**
         * Daemons dial the control plane at {@code hostPort} over TLS, trusting {@code caPem} (the CA
         * certificate, PEM; empty to trust the image's system authorities).
         */
        public Builder attachAddress(String hostPort, String caPem) {
            this.attachTarget = requireNonNull(hostPort, "hostPort");
            this.attachCa = requireNonNull(caPem, "caPem");
            this.attachSocketDirectory = null;
            return this;
        }

        /** The other replicas' Attach addresses as daemons dial them; none by default. */
        public Builder attachPeers(List<String> attachPeers) {
            this.attachPeers = List.copyOf(requireNonNull(attachPeers, "attachPeers"));
            return this;
        }

        public Builder jobPrefix(String jobPrefix) {
            this.jobPrefix = requireNonNull(jobPrefix, "jobPrefix");
            return this;
        }

        public Builder placementTimeout(Duration placementTimeout) {
            this.placementTimeout = requireNonNull(placementTimeout, "placementTimeout");
            return this;
        }

        public Builder stopTimeout(Duration stopTimeout) {
            this.stopTimeout = requireNonNull(stopTimeout, "stopTimeout");
            return this;
        }

        public Builder retention(Duration retention) {
            this.retention = requireNonNull(retention, "retention");
            return this;
        }

        public Builder reconcileInterval(Duration reconcileInterval) {
            this.reconcileInterval = requireNonNull(reconcileInterval, "reconcileInterval");
            return this;
        }

        public Builder orphanGrace(Duration orphanGrace) {
            this.orphanGrace = requireNonNull(orphanGrace, "orphanGrace");
            return this;
        }

        public NomadOptions build() {
            return new NomadOptions(address, token, region, namespace, image, runtime,
                    requireNonNull(attachTarget, "attach target: call attachSocket or attachAddress"),
                    attachSocketDirectory, jobPrefix, placementTimeout, stopTimeout, retention, reconcileInterval,
                    orphanGrace, attachCa, attachPeers);
        }
    }
}
