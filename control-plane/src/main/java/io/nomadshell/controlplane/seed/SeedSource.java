package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

/** Where a job's workspace comes from, when not empty: one of the owner's uploads, or a git repository. */
public sealed interface SeedSource permits SeedSource.FromUpload, GitSource {
    /** An upload of the owner's, by its id. */
    record FromUpload(String uploadId) implements SeedSource {
        public FromUpload {
            requireNonNull(uploadId, "uploadId");
        }
    }
}
