package io.nomadshell.gateway.api;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.Job;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * The JSON of jobs lately served: a job read again unchanged (a finished job always is, and a polled
 * running one mostly) is answered with the bytes rendered the first time instead of being built into
 * a message and written again, which was about a fifth of the garbage each {@code GET /status/{id}}
 * made (the timestamps' formatting most of it). Direct-mapped, so it needs no lock and stays small:
 * a fixed number of slots, a job's by its id's hash, a newer job taking the slot; the slots hold
 * immutable pairs, and only small answers are kept (a job's task may be up to 64 KiB).
 */
final class RenderedJobs {
    private static final int SLOTS = 256;
    static final int MAX_KEPT_BYTES = 4096;

    private record Rendered(Job job, byte[] json) {}

    private final AtomicReferenceArray<Rendered> slots = new AtomicReferenceArray<>(SLOTS);
    private final Function<Job, byte[]> render;

    RenderedJobs(Function<Job, byte[]> render) {
        this.render = requireNonNull(render, "render");
    }

    /** The job's JSON, rendered now unless the same job was rendered last in its slot. Never modify it. */
    byte[] json(Job job) {
        var slot = job.id().hashCode() & (SLOTS - 1);
        var kept = slots.get(slot);
        if (kept != null && kept.job().equals(job)) {
            return kept.json();
        }
        var json = render.apply(job);
        if (json.length <= MAX_KEPT_BYTES) {
            slots.set(slot, new Rendered(job, json));
        }
        return json;
    }
}
