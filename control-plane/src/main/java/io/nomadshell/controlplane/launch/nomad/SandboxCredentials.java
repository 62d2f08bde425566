package io.nomadshell.controlplane.launch.nomad;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a sandbox's launch credential waits for its task, out of reach of whoever may read jobs: the
 * Nomad variable {@code nomad/jobs/<parent job>/sandbox/sandbox}, one item per sandbox, named by the id
 * the sandbox attaches as (its dispatch meta {@code nomad_shell_job}). Nomad lets a task's workload
 * identity read that path, and a dispatched job's identity carries its parent's id, so every sandbox
 * of one parent job renders its own item from the one variable (the job file's template, run by the
 * Nomad client, never by the task's processes). Reading it takes the {@code variables} capability,
 * which {@code read-job} does not grant.
 *
 * <p>An item is written before its dispatch (the template waits for the variable, and takes the item
 * that is there when it renders) and removed once the sandbox has ended (the daemon's first Attach
 * spent it long before). Writers share the variable, so every change is a check-and-set on its index.
 */
final class SandboxCredentials {
    private static final Logger log = LoggerFactory.getLogger(SandboxCredentials.class);
    /** The sandbox's group and task in {@code nomad-jobs/sandbox.nomad.hcl}: the path the task may read. */
    private static final String TASK_PATH = "/sandbox/sandbox";
    /** Other writers (sandboxes starting, ending) change the variable between a read and a write: retry. */
    private static final int ATTEMPTS = 50;

    private final NomadApi api;
    private final String jobPrefix;
    /** The janitor's view: items of sandboxes not running, and since when. */
    private final Map<String, Instant> orphanSince = new HashMap<>();

    SandboxCredentials(NomadApi api, String jobPrefix) {
        this.api = requireNonNull(api, "api");
        this.jobPrefix = requireNonNull(jobPrefix, "jobPrefix");
    }

    /** The variable the sandboxes of {@code parentJobId} read their credentials from. */
    static String path(String parentJobId) {
        return "nomad/jobs/" + parentJobId + TASK_PATH;
    }

    /**
     * Fails unless the token may read, list, write and remove the credentials of {@code parentJobId},
     * saying which capability on which path it lacks: at start-up, before any job needs them. The write
     * and the removal are checks-and-sets at an index no variable has, so Nomad checks the capability,
     * then refuses them (409) and nothing changes.
     */
    void check(String parentJobId) throws NomadApiException {
        var path = path(parentJobId);
        api.variable(path);
        api.variablePaths(path);
        api.putVariable(path, Map.of("check", ""), Long.MAX_VALUE);
        api.deleteVariable(path, Long.MAX_VALUE);
    }

    /** Leaves {@code credential} for the sandbox {@code sandboxId} of {@code parentJobId}, before its dispatch. */
    void put(String parentJobId, String sandboxId, String credential) throws NomadApiException {
        requireNonNull(sandboxId, "sandboxId");
        requireNonNull(credential, "credential");
        update(path(parentJobId), items -> credential.equals(items.put(sandboxId, credential)) ? null : items);
    }

    /**
     * Removes the credential of {@code sandboxId}, if it is still {@code credential}, so that a newer
     * sandbox of the same job keeps its own; null removes whichever is there.
     */
    void remove(String parentJobId, String sandboxId, @Nullable String credential) throws NomadApiException {
        removeAt(path(parentJobId), requireNonNull(sandboxId, "sandboxId"), credential);
    }

    /**
     * What removes the credential of {@code sandboxId} (see {@link #remove}) once, when its task has
     * started or ended; it never throws: what it cannot remove, the janitor's {@link #sweep} does.
     */
    Runnable remover(String parentJobId, String sandboxId, @Nullable String credential) {
        var removed = new AtomicBoolean();
        return () -> {
            if (removed.compareAndSet(false, true)) {
                try {
                    remove(parentJobId, sandboxId, credential);
                } catch (NomadApiException e) {
                    log.warn("could not remove the launch credential of {} from {}: {} (the janitor will)", sandboxId,
                            path(parentJobId), e.getMessage());
                }
            }
        };
    }

    private void removeAt(String path, String sandboxId, @Nullable String credential) throws NomadApiException {
        update(path, items -> {
            var current = items.get(sandboxId);
            if (current == null || (credential != null && !credential.equals(current))) {
                return null;
            }
            items.remove(sandboxId);
            return items;
        });
    }

    /**
     * Removes the credentials of sandboxes that are not running ({@code live} names those that are)
     * for longer than {@code grace}: those a control plane wrote and then died before removing. The
     * grace covers the moments between an item's write and its sandbox's dispatch.
     */
    void sweep(Set<String> live, Duration grace) throws NomadApiException {
        var now = Instant.now();
        var stillOrphaned = new HashMap<String, Instant>();
        for (var path : api.variablePaths("nomad/jobs/" + jobPrefix + "-")) {
            if (!path.endsWith(TASK_PATH)) {
                continue;
            }
            var variable = api.variable(path);
            if (variable.isEmpty()) {
                continue;
            }
            for (var item : variable.get().items().entrySet()) {
                if (live.contains(item.getKey())) {
                    continue;
                }
                var key = path + " " + item.getKey();
                var since = orphanSince.getOrDefault(key, now);
                if (since.plus(grace).isAfter(now)) {
                    stillOrphaned.put(key, since);
                    continue;
                }
                log.info("removing the unused launch credential of {} from {}: its sandbox is not running",
                        item.getKey(), path);
                removeAt(path, item.getKey(), item.getValue());
            }
        }
        orphanSince.clear();
        orphanSince.putAll(stillOrphaned);
    }

    /**
     * Applies {@code change} to the variable's items with check-and-set, until no other writer came
     * between; {@code change} answers null when there is nothing to do. No items left: the variable goes.
     */
    private void update(String path, Function<Map<String, String>, @Nullable Map<String, String>> change)
            throws NomadApiException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            var current = api.variable(path);
            var items = change.apply(new HashMap<>(current.map(NomadApi.Variable::items).orElse(Map.of())));
            if (items == null) {
                return;
            }
            long index = current.map(NomadApi.Variable::modifyIndex).orElse(0L);
            boolean written = items.isEmpty()
                    ? current.isEmpty() || api.deleteVariable(path, index)
                    : api.putVariable(path, items, index);
            if (written) {
                return;
            }
        }
        throw new NomadApiException(409, "the Nomad variable " + path + " changed under every one of " + ATTEMPTS
                + " attempts to write it");
    }
}
