package io.nomadshell.gateway.api;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import io.nomadshell.controlplane.seed.BasicCredential;
import io.nomadshell.controlplane.seed.GitSource;
import io.nomadshell.controlplane.seed.SeedSource;
import io.nomadshell.proto.v1.Seed;
import org.jspecify.annotations.Nullable;

/** A request's {@code seed} as the source the control plane takes: none, an upload, or a git repository. */
final class SeedSources {
    private SeedSources() {}

    /**
     * @throws JobException INVALID_ARGUMENT when it names both sources, or a git source that is refused
     */
    static @Nullable SeedSource of(Seed seed) {
        boolean upload = !seed.getUploadId().isEmpty();
        if (upload && seed.hasGit()) {
            throw new JobException(Reason.INVALID_ARGUMENT,
                    "seed names both an upload and a git repository: give one of upload_id and git");
        }
        if (upload) {
            return new SeedSource.FromUpload(seed.getUploadId());
        }
        if (!seed.hasGit()) {
            return null;
        }
        var git = seed.getGit();
        var credential = git.hasCredential()
                ? new BasicCredential(git.getCredential().getUsername(), git.getCredential().getPassword())
                : null;
        return GitSource.of(git.getUrl(), git.getRef(), credential);
    }
}
