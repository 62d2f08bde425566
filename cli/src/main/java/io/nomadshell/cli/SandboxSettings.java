package io.nomadshell.cli;

import io.nomadshell.controlplane.egress.EgressPolicy;
import io.nomadshell.controlplane.job.ResourcePolicy;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.launch.nomad.NomadLauncher;
import io.nomadshell.controlplane.launch.nomad.NomadOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Where sandboxes run and what they may use: the launcher (local or Nomad), the Nomad settings
 * (the Nomad CLI's own environment variables) and the per-job resource defaults and caps.
 */
final class SandboxSettings {
    @Option(names = "--launcher", defaultValue = "${env:NOMAD_SHELL_LAUNCHER:-local}",
            description = "Where sandboxes run: local (bubblewrap on this machine) or nomad (a Nomad cluster, "
                    + "from NOMAD_ADDR, NOMAD_REGION, --nomad-token, --nomad-namespace) (env NOMAD_SHELL_LAUNCHER; default ${DEFAULT-VALUE}).")
    String launcher = "local";

    @Option(names = "--sandbox-image", defaultValue = "${env:NOMAD_SHELL_SANDBOX_IMAGE:-" + NomadOptions.DEFAULT_IMAGE + "}",
            description = "Nomad: the sandbox image (sandbox-image/) (env NOMAD_SHELL_SANDBOX_IMAGE; default ${DEFAULT-VALUE}).")
    String image = NomadOptions.DEFAULT_IMAGE;

    @Option(names = "--sandbox-runtime", defaultValue = "${env:NOMAD_SHELL_SANDBOX_RUNTIME:-runc}",
            description = "Nomad: the container runtime, runc or runsc (gVisor) (env NOMAD_SHELL_SANDBOX_RUNTIME; default ${DEFAULT-VALUE}).")
    String runtime = "runc";

    @Option(names = "--nomad-job-prefix", defaultValue = "${env:NOMAD_SHELL_NOMAD_JOB_PREFIX:-nomad-shell-sandbox}",
            description = "Nomad: the name of this deployment's sandbox jobs and the start of every job it dispatches; "
                    + "deployments that share a cluster each need their own (env NOMAD_SHELL_NOMAD_JOB_PREFIX; default ${DEFAULT-VALUE}).")
    String jobPrefix = "nomad-shell-sandbox";

    @Option(names = "--nomad-token", defaultValue = "${env:NOMAD_TOKEN}",
            description = "Nomad: the ACL token every call to Nomad carries; its policy needs only "
                    + "nomad-jobs/control-plane.policy.hcl in this server's namespace (env NOMAD_TOKEN, better than the flag: "
                    + "a command line is visible to every local user).")
    @Nullable String nomadToken;

    @Option(names = "--nomad-namespace", defaultValue = "${env:NOMAD_NAMESPACE}",
            description = "Nomad: the namespace this server's sandbox jobs run in (env NOMAD_NAMESPACE; default: Nomad's default).")
    @Nullable String nomadNamespace;

    @Option(names = "--attach-address", defaultValue = "${env:NOMAD_SHELL_ATTACH_ADDRESS}",
            description = "Nomad: host:port at which sandboxes reach this server's --attach-listen over TLS (env NOMAD_SHELL_ATTACH_ADDRESS). "
                    + "Without it they use this server's Unix socket, mounted into them: the Nomad client must run on this host.")
    @Nullable String attachAddress;

    @Option(names = "--attach-socket", defaultValue = "${env:NOMAD_SHELL_ATTACH_SOCKET}",
            description = "The Unix socket sandboxes on this host attach to (env NOMAD_SHELL_ATTACH_SOCKET; default "
                    + "<data-dir>/attach/attach.sock). Nomad replicas on one host that share a socket directory, each "
                    + "with its own socket in it, let a sandbox re-attach to any of them.")
    @Nullable Path attachSocket;

    @Option(names = "--attach-peers", defaultValue = "${env:NOMAD_SHELL_ATTACH_PEERS}", split = ",",
            description = "Nomad: the other replicas' Attach addresses as sandboxes dial them, comma-separated "
                    + "(unix:///run/nomad-shell/<socket> for a socket in the shared directory, or host:port); a "
                    + "sandbox's daemon tries them in turn when the replica driving its job is gone "
                    + "(env NOMAD_SHELL_ATTACH_PEERS; default none).")
    @Nullable List<String> attachPeers;

    @Option(names = "--sandbox-cpu-mhz", defaultValue = "${env:NOMAD_SHELL_SANDBOX_CPU_MHZ:-1000}",
            description = "Nomad: CPU of a sandbox unless the job asks (default ${DEFAULT-VALUE}).")
    int cpuMhz = 1000;

    @Option(names = "--sandbox-max-cpu-mhz", defaultValue = "${env:NOMAD_SHELL_SANDBOX_MAX_CPU_MHZ:-4000}",
            description = "The most CPU a job may ask for (default ${DEFAULT-VALUE}).")
    int maxCpuMhz = 4000;

    @Option(names = "--sandbox-max-memory-mb", defaultValue = "${env:NOMAD_SHELL_SANDBOX_MAX_MEMORY_MB:-4096}",
            description = "The most memory a job may ask for (default ${DEFAULT-VALUE}).")
    int maxMemoryMb = 4096;

    @Option(names = "--sandbox-disk-mb", defaultValue = "${env:NOMAD_SHELL_SANDBOX_DISK_MB:-4096}",
            description = "Disk of a sandbox's workspace (and of its /tmp) unless the job asks; writing past it "
                    + "fails with ENOSPC (env NOMAD_SHELL_SANDBOX_DISK_MB; default ${DEFAULT-VALUE}).")
    int diskMb = 4096;

    @Option(names = "--sandbox-max-disk-mb", defaultValue = "${env:NOMAD_SHELL_SANDBOX_MAX_DISK_MB:-16384}",
            description = "The most disk a job may ask for (env NOMAD_SHELL_SANDBOX_MAX_DISK_MB; default ${DEFAULT-VALUE}).")
    int maxDiskMb = 16384;

    @Option(names = "--sandbox-uid-base", defaultValue = "${env:NOMAD_SHELL_SANDBOX_UID_BASE:-1100000}",
            description = "Local: the first host uid sandboxes run as, one each while they run; no local user may "
                    + "have one of the 65536 from here (env NOMAD_SHELL_SANDBOX_UID_BASE; default ${DEFAULT-VALUE}).")
    int uidBase = 1_100_000;

    private static @Nullable String blankToNull(@Nullable String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }

    /** The Attach socket: --attach-socket, or {@code attach/attach.sock} in the data dir. */
    Path attachSocket(Path dataDir) {
        return attachSocket != null ? attachSocket.toAbsolutePath() : dataDir.resolve("attach").resolve("attach.sock");
    }

    /** The host of --attach-address, or null when sandboxes use the Unix socket. */
    @Nullable String attachHost() {
        if (attachAddress == null || attachAddress.isBlank()) {
            return null;
        }
        var hostPort = attachAddress.strip();
        int colon = hostPort.lastIndexOf(':');
        return colon > 0 ? hostPort.substring(0, colon) : hostPort;
    }

    boolean nomad() {
        return switch (launcher) {
            case "local" -> false;
            case "nomad" -> true;
            default -> throw new UserError("--launcher must be local or nomad, not '" + launcher + "'");
        };
    }

    /** Defaults and caps: memory and timeout as the server's flags say; egress as {@code egress} caps it. */
    ResourcePolicy policy(int memoryMb, Duration maxDuration, EgressPolicy egress) {
        try {
            return new ResourcePolicy(new SandboxResources(cpuMhz, memoryMb, maxDuration, List.of(), diskMb),
                    maxCpuMhz, ResourcePolicy.DEFAULT.minMemoryMb(), maxMemoryMb, maxDuration, egress, maxDiskMb);
        } catch (IllegalArgumentException e) {
            throw new UserError("the sandbox defaults do not fit the caps: " + e.getMessage());
        }
    }

    /**
     * @param attachCa the CA certificate daemons trust for Attach over TLS (null: the operator's own
     *     certificate, which the image's system authorities must trust); used with --attach-address
     * @param attachOverTls whether this server serves Attach over TLS (--attach-listen)
     */
    NomadLauncher nomadLauncher(Path attachSocket, @Nullable Path attachCa, boolean attachOverTls,
            SandboxResources defaults) throws IOException {
        var options = NomadOptions.fromEnv(System.getenv()).image(image).runtime(runtime).jobPrefix(jobPrefix)
                .token(blankToNull(nomadToken)).namespace(blankToNull(nomadNamespace));
        if (attachAddress != null && !attachAddress.isBlank()) {
            if (!attachOverTls) {
                throw new UserError("--attach-address needs --attach-listen: sandboxes dial Attach over TLS, "
                        + "which only the Attach listener serves");
            }
            options.attachAddress(attachAddress.strip(), attachCa == null ? "" : Files.readString(attachCa));
        } else {
            options.attachSocket(attachSocket);
        }
        var peers = attachPeers == null ? List.<String>of()
                : attachPeers.stream().map(String::strip).filter(peer -> !peer.isEmpty()).toList();
        for (var peer : peers) {
            if (peer.chars().anyMatch(Character::isWhitespace)
                    || !(peer.startsWith("unix:///") || peer.matches("[^/]+:[0-9]{1,5}"))) {
                throw new UserError("--attach-peers: '" + peer + "' is not an Attach address as sandboxes dial it "
                        + "(unix:///run/nomad-shell/<socket> or host:port)");
            }
        }
        options.attachPeers(peers);
        NomadOptions built;
        try {
            built = options.build();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        try {
            return NomadLauncher.start(built, defaults);
        } catch (IOException e) {
            throw new UserError("the Nomad launcher could not start (" + built.address() + "): " + e.getMessage());
        }
    }
}
