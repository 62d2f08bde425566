package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.proto.seed.SeedArchive;
import java.time.Instant;

/** An archive received and checked: its id, what it holds, and when it goes unless a job takes it. */
public record Upload(String id, SeedArchive.Summary contents, Instant expiresAt) {
    public Upload {
        requireNonNull(id, "id");
        requireNonNull(contents, "contents");
        requireNonNull(expiresAt, "expiresAt");
    }
}
