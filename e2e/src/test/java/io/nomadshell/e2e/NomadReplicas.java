package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.JobEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Replicas for the failover tests: real servers (their own JVMs) with the Nomad launcher, their Attach
 * sockets side by side in one directory that Nomad mounts into sandboxes, each told a peer's.
 */
final class NomadReplicas {
    private NomadReplicas() {}

    /**
     * A server on {@code redisUrl} whose Attach socket is {@code name}.sock in {@code sockets}, with
     * {@code peer}'s (as a sandbox sees it) as its peer, dispatching sandboxes under {@code prefix};
     * {@code extra} server arguments go last.
     */
    static ServerProcess start(Path tmp, String name, Path sockets, String peer, String prefix, String redisUrl,
            String modelBaseUrl, String... extra) throws Exception {
        var args = new ArrayList<>(List.of("--launcher", "nomad", "--sandbox-image", NomadTestbed.IMAGE,
                "--nomad-job-prefix", prefix, "--sandbox-memory-mb", "512", "--sandbox-disk-mb", "256",
                "--attach-socket", sockets.resolve(name + ".sock").toString(),
                "--attach-peers", "unix:///run/nomad-shell/" + peer + ".sock"));
        if (NomadTestbed.TOKEN != null) {
            args.addAll(List.of("--nomad-token", NomadTestbed.TOKEN));
        }
        args.addAll(List.of(extra));
        return ServerProcess.start(tmp.resolve(name), redisUrl, modelBaseUrl, tmp.resolve(name + ".log"),
                args.toArray(String[]::new));
    }

    /** Waits (boundedly) until the job has an event {@code wanted}; fails saying {@code what} if it never comes. */
    static void awaitEvent(JobStore store, String job, Predicate<JobEvent> wanted, Supplier<String> what) {
        var deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (store.eventsAfter(job, 0, 1_000).stream().noneMatch(wanted) && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(store.eventsAfter(job, 0, 1_000)).as(what).anyMatch(wanted);
    }
}
