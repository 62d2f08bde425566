package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.CheckpointRepository.GitFailure;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.proto.v1.CheckpointAction;
import io.nomadshell.proto.v1.CheckpointResult;
import io.nomadshell.proto.v1.RestoreAction;
import io.nomadshell.proto.v1.RestoreResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the workspace after each step as a commit of the sandbox's {@link CheckpointRepository},
 * streaming back the git bundle the control plane lacks ({@link CheckpointAction}), and puts the
 * workspace back to a commit of a bundle the control plane sends in chunks ({@link RestoreAction}).
 * Only the control plane calls it; the model is never offered it.
 *
 * <p>Git records regular files (with the execute bit) and symbolic links, nothing else: no empty
 * directories, owners or other mode bits. It never records an entry named {@code .git}, so each
 * repository in the workspace is recorded under a stand-in name ({@link GitDirectoryStandIns}). Git's
 * own checks keep what a restore writes inside the workspace ({@code ..}, {@code .git} and paths
 * through a link the same tree makes are refused).
 */
final class CheckpointTool {

    private static final Logger log = LoggerFactory.getLogger(CheckpointTool.class);
    private static final Pattern OBJECT_ID = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");

    private final Workspace workspace;
    private final CheckpointRepository repository;
    private final StagedChunks chunks;

    CheckpointTool(Workspace workspace, Path gitDir) {
        this.workspace = requireNonNull(workspace, "workspace");
        this.repository = new CheckpointRepository(gitDir, workspace.root());
        // Beside the repository, outside the workspace (which a restore empties).
        this.chunks = new StagedChunks("restore", repository.gitDir().getParent());
    }

    synchronized CheckpointResult checkpoint(CheckpointAction action, CallEvents events)
            throws ToolException, IOException, InterruptedException {
        if (action.getStep() < 0) {
            throw new ToolException("checkpoint step " + action.getStep() + " is negative");
        }
        String base = action.getBase();
        if (!base.isEmpty() && !OBJECT_ID.matcher(base).matches()) {
            throw new ToolException("checkpoint base '" + base + "' is not a commit id");
        }
        Recorded recorded;
        try {
            recorded = record(action.getStep(), base);
        } catch (GitFailure first) {
            // Most likely the agent changed the repository: start over from nothing, which sends a full bundle.
            log.warn("checkpoint repository unusable ({}); starting it over", first.getMessage());
            repository.wipe();
            try {
                recorded = record(action.getStep(), base);
            } catch (GitFailure again) {
                throw new ToolException("cannot record a checkpoint: " + again.getMessage());
            }
        }
        var result = CheckpointResult.newBuilder().setCommit(recorded.commit()).setFiles(recorded.files());
        if (recorded.bundle() == null) {
            return result.build();
        }
        try (InputStream in = Files.newInputStream(recorded.bundle());
             ChunkStream chunks = new ChunkStream(events::bundleChunk, ArchiveTool.CHUNK_BYTES)) {
            in.transferTo(chunks);
            return result.setBundleBytes(chunks.count()).build();
        } finally {
            Files.deleteIfExists(recorded.bundle());
        }
    }

    synchronized RestoreResult restore(RestoreAction action) throws ToolException, IOException, InterruptedException {
        var result = RestoreResult.newBuilder().setReceived(chunks.append(action.getOffset(), action.getData()));
        if (!action.getLast()) {
            return result.build();
        }
        try {
            return result.setFiles(restoreFrom(chunks.file(), action.getCommit())).build();
        } finally {
            chunks.discard();
        }
    }

    /** Commits the workspace if it changed and writes the bundle of what {@code base} lacks, if anything. */
    private Recorded record(int step, String base) throws GitFailure, ToolException, IOException, InterruptedException {
        repository.open();
        repository.pruneIfLarge();
        var snapshot = repository.snapshot();
        String tree = snapshot.tree();
        String[] head = repository.git("for-each-ref", "--format=%(objectname) %(tree)", CheckpointRepository.BRANCH)
                .split(" ");
        String parent = head.length == 2 ? head[0] : "";
        String commit;
        if (head.length == 2 && head[1].equals(tree)) {
            commit = parent;
        } else {
            commit = repository.commit(tree, parent, step);
            repository.git("update-ref", CheckpointRepository.BRANCH, commit);
        }
        if (commit.equals(base)) {
            return new Recorded(commit, snapshot.files(), null);
        }
        String range = !base.isEmpty() && repository.succeeds("cat-file", "-e", base + "^{commit}")
                ? base + ".." + CheckpointRepository.BRANCH
                : CheckpointRepository.BRANCH;
        Path bundle = repository.gitDir().resolve("outgoing.bundle");
        repository.git("bundle", "create", "--quiet", bundle.toString(), range);
        return new Recorded(commit, snapshot.files(), bundle);
    }

    /** Makes the bundle's history the repository's and the workspace exactly {@code commit}'s files. */
    private int restoreFrom(Path bundle, String commit) throws ToolException, IOException, InterruptedException {
        if (commit.isEmpty()) {
            throw new ToolException("the last restore chunk names no commit to restore");
        }
        if (!OBJECT_ID.matcher(commit).matches()) {
            throw new ToolException("'" + commit + "' is not a commit id");
        }
        try {
            repository.wipe();
            repository.open();
            try {
                repository.git("bundle", "verify", "--quiet", bundle.toString());
            } catch (GitFailure e) {
                throw new ToolException("the checkpoint bundle is not a complete git bundle: " + e.getMessage());
            }
            repository.git("fetch", "--quiet", bundle.toString(), "+refs/*:refs/restore/*");
            if (!repository.succeeds("cat-file", "-e", commit + "^{commit}")) {
                throw new ToolException("commit " + commit + " is not in the checkpoint bundle");
            }
            TreeEraser.eraseContents(workspace.root());
            int files = repository.checkout(commit);
            repository.git("update-ref", CheckpointRepository.BRANCH, commit);
            return files;
        } catch (GitFailure e) {
            throw new ToolException("cannot restore the checkpoint: " + e.getMessage());
        }
    }

    private record Recorded(String commit, int files, @Nullable Path bundle) {}
}
