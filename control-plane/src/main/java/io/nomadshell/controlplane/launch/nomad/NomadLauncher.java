package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import com.hashicorp.nomad.apimodel.JobDispatchResponse;
import io.nomadshell.controlplane.job.SandboxResources;
import io.nomadshell.controlplane.launch.LaunchException;
import io.nomadshell.controlplane.launch.MemberSpec;
import io.nomadshell.controlplane.launch.PoolSandbox;
import io.nomadshell.controlplane.launch.ReconcilingLauncher;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.launch.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each job's sandbox as a dispatched instance of the parameterized batch job
 * {@code nomad-jobs/sandbox.nomad.hcl} on a Nomad cluster (docker driver). The job's Attach token
 * reaches only its task, through a Nomad variable ({@link SandboxCredentials}), never the dispatched
 * job that whoever may read jobs sees; the dispatch meta says which Nomad Shell job, whose, and what
 * it is about, so the Nomad UI tells operators what each allocation is.
 */
public final class NomadLauncher implements ReconcilingLauncher {
    private static final Logger log = LoggerFactory.getLogger(NomadLauncher.class);
    private static final int TASK_SUMMARY_CHARS = 80;
    /** The dispatch meta key of the W3C traceparent of the job's launch span (meta_optional in the job file). */
    static final String TRACEPARENT_META = "traceparent";
    private static final Duration ADOPT_WAIT = Duration.ofSeconds(1);

    private final NomadOptions options;
    private final NomadApi api;
    private final SandboxJobTemplate template;
    private final Set<SandboxProfile> registered = ConcurrentHashMap.newKeySet();
    private final PoolOwners owners;
    private final SandboxCredentials credentials;

    private NomadLauncher(NomadOptions options) {
        this.options = options;
        this.api = new NomadApi(options);
        this.template = SandboxJobTemplate.load();
        this.owners = new PoolOwners(api, options.jobPrefix(), options.reconcileInterval());
        this.credentials = new SandboxCredentials(api, options.jobPrefix());
    }

    /**
     * Connects to Nomad, registers the sandbox parent job for {@code defaults} and checks that the
     * token may reach its sandboxes' credentials.
     *
     * @throws IOException when Nomad cannot be reached or refuses the job or the credentials' variable,
     *     saying so
     */
    public static NomadLauncher start(NomadOptions options, SandboxResources defaults) throws IOException {
        requireNonNull(options, "options");
        requireNonNull(defaults, "defaults");
        var launcher = new NomadLauncher(options);
        var leader = launcher.api.leader();
        launcher.credentials.check(launcher.parentJob(SandboxProfile.of(defaults)));
        log.info("Nomad launcher ready: {} (leader {}), image {}", options.address(), leader, options.image());
        return launcher;
    }

    @Override
    public Sandbox launch(SandboxSpec spec) throws LaunchException {
        requireNonNull(spec, "spec");
        var resources = spec.resources() != null ? spec.resources() : SandboxResources.DEFAULT;
        try {
            var meta = new LinkedHashMap<String, String>();
            meta.put(SandboxJanitor.JOB_META, spec.jobId());
            meta.put("submitter", spec.submitter());
            meta.put("task", summary(spec.task()));
            if (!spec.traceparent().isEmpty()) {
                // An operator who finds the allocation finds the job's trace.
                meta.put(TRACEPARENT_META, spec.traceparent());
            }
            return dispatch(spec.jobId(), resources, spec.token(), meta);
        } catch (NomadApiException e) {
            throw new LaunchException("Nomad did not take the sandbox: " + e.getMessage(), e);
        }
    }

    /**
     * Follows the dispatched job {@code reference} that another replica started for {@code jobId}, if
     * it belongs to this deployment and its allocation still runs (or is about to).
     */
    @Override
    public Optional<Sandbox> adopt(String jobId, String reference, SandboxResources resources) {
        requireNonNull(jobId, "jobId");
        requireNonNull(reference, "reference");
        requireNonNull(resources, "resources");
        if (!reference.startsWith(options.jobPrefix() + "-")) {
            log.warn("not adopting {} for job {}: it is not a sandbox of this deployment", reference, jobId);
            return Optional.empty();
        }
        try {
            var current = NomadSandbox.lostOrNewest(api.allocations(reference, 0, ADOPT_WAIT).value());
            if (current == null || AllocationWords.ended(current)) {
                log.info("the sandbox {} of job {} has ended: nothing to adopt", reference, jobId);
                return Optional.empty();
            }
            log.info("adopting the sandbox of job {}: Nomad job {}, allocation {}", jobId, reference, current.getId());
            // Its daemon dials this replica's socket from now on, which may be newer than the sandbox.
            openAttachSocket();
            // The credential was the launching replica's: whichever is left goes when the sandbox ends.
            var credential = credentials.remover(parentOf(reference), jobId, null);
            return Optional.of(NomadSandbox.follow(api, jobId, reference, current.getEvalId(), resources.memoryMb(),
                    options, credential));
        } catch (NomadApiException e) {
            log.warn("could not read the sandbox {} of job {} to adopt it: {}", reference, jobId, e.getMessage());
            return Optional.empty();
        }
    }

    /** With peers, a daemon whose replica stops redials another, which adopts its sandbox. */
    @Override
    public boolean handsOverOnStop() {
        return !options.attachTargets().equals(options.attachTarget());
    }

    /**
     * Dispatches a warm-pool sandbox: the meta names the member (as the job it attaches as), says it is
     * a pool member, and which launcher owns it, so that janitors keep it while this one lives.
     */
    @Override
    public PoolSandbox startMember(MemberSpec spec) throws LaunchException {
        requireNonNull(spec, "spec");
        try {
            var meta = new LinkedHashMap<String, String>();
            meta.put(SandboxJanitor.JOB_META, spec.memberId());
            meta.put(SandboxJanitor.POOL_META, "true");
            meta.put(SandboxJanitor.OWNER_META, owners.ownerId());
            var startedAt = Instant.now();
            var member = new NomadPoolMember(dispatch(spec.memberId(), spec.resources(), spec.token(), meta), startedAt,
                    memberMemoryBytes(spec.resources()), owners);
            owners.started(member);
            return member;
        } catch (NomadApiException e) {
            throw new LaunchException("Nomad did not take the warm-pool sandbox: " + e.getMessage(), e);
        }
    }

    /** A member holds its job's memory reservation on a Nomad client from its dispatch, idle or not. */
    @Override
    public long memberMemoryBytes(SandboxResources resources) {
        return (long) resources.memoryMb() << 20;
    }

    /**
     * Dispatches the sandbox job of {@code id} (a job, or a pool member) and follows it. Its credential
     * is in place before the dispatch, and removed once the sandbox has ended.
     */
    private NomadSandbox dispatch(String id, SandboxResources resources, String token, Map<String, String> meta)
            throws NomadApiException {
        var parent = parentJob(SandboxProfile.of(resources));
        openAttachSocket();
        credentials.put(parent, id, token);
        var credential = credentials.remover(parent, id, token);
        JobDispatchResponse dispatched;
        try {
            dispatched = api.dispatch(parent, meta);
        } catch (NomadApiException e) {
            credential.run();
            throw e;
        }
        log.info("dispatched the sandbox of {} as Nomad job {}", id, dispatched.getDispatchedJobId());
        return NomadSandbox.follow(api, id, dispatched.getDispatchedJobId(), dispatched.getEvalId(),
                resources.memoryMb(), options, credential);
    }

    @Override
    public AutoCloseable startReconciling(Predicate<String> jobIsActive) {
        return SandboxJanitor.start(api, options, jobIsActive, owners, credentials);
    }

    /** The parent job for a profile, registered from the job file the first time it is needed. */
    private String parentJob(SandboxProfile profile) throws NomadApiException {
        var id = profile.parentJobId(options.jobPrefix());
        if (!registered.contains(profile)) {
            api.register(template.parentJob(api, options, profile));
            registered.add(profile);
            log.info("registered the sandbox job {}", id);
        }
        return id;
    }

    /**
     * Lets sandboxes' non-root user connect to the Attach socket when it is mounted into them. The
     * socket is the control plane's own, made by its server after this launcher started; every
     * daemon must still present its job's token.
     */
    private void openAttachSocket() {
        var directory = options.attachSocketDirectory();
        if (directory == null) {
            return;
        }
        try (var sockets = Files.list(directory)) {
            for (var socket : (Iterable<Path>) sockets::iterator) {
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            }
        } catch (IOException e) {
            log.warn("could not open the Attach socket in {} to sandboxes: {}", directory, e.getMessage());
        }
    }

    /** The parent job of a dispatched job: Nomad names it {@code <parent>/dispatch-…}. */
    private static String parentOf(String dispatchedJobId) {
        int slash = dispatchedJobId.indexOf('/');
        return slash < 0 ? dispatchedJobId : dispatchedJobId.substring(0, slash);
    }

    /** The task's first words, on one line. */
    static String summary(String task) {
        var line = task.strip().replaceAll("\\s+", " ");
        return line.length() <= TASK_SUMMARY_CHARS ? line : line.substring(0, TASK_SUMMARY_CHARS - 1) + "…";
    }
}
