package io.nomadshell.controlplane.agent;

import io.nomadshell.controlplane.context.JobContext;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.proto.v1.ListFilesAction;
import io.nomadshell.proto.v1.ReadFileAction;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Brings the workspace's text files into the job's recall index before a search, so recall finds
 * what commands wrote as well as what the model wrote or read: files that are new or changed in size
 * since they were last indexed are read from the sandbox. Bounded: small text files only, a number
 * per search, and the folders of dependencies and build output left out.
 */
final class WorkspaceFiles {
    static final int MAX_FILE_BYTES = 256 * 1024;
    static final int MAX_READS = 100;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Set<String> SKIPPED = Set.of(".git", "node_modules", "__pycache__", ".venv", "venv",
            "target", "dist", "build", ".cache");

    private WorkspaceFiles() {}

    /** Indexes what changed; a sandbox too slow to answer leaves the index as it was. */
    static void refresh(JobContext context, ToolRunner tools, String callIdPrefix)
            throws InterruptedException, SandboxLostException {
        var listing = run(tools, ToolCall.newBuilder().setCallId(callIdPrefix + "-list")
                .setListFiles(ListFilesAction.getDefaultInstance()).build());
        if (listing == null || !listing.hasListFiles()) {
            return;
        }
        int reads = 0;
        for (var entry : listing.getListFiles().getEntriesList()) {
            if (entry.getDirectory() || entry.getSize() > MAX_FILE_BYTES || skipped(entry.getPath())
                    || context.indexedFileSize(entry.getPath()) == entry.getSize()) {
                continue;
            }
            if (++reads > MAX_READS) {
                return;
            }
            var read = run(tools, ToolCall.newBuilder().setCallId(callIdPrefix + "-read" + reads)
                    .setReadFile(ReadFileAction.newBuilder().setPath(entry.getPath()).setMaxBytes(MAX_FILE_BYTES)).build());
            if (read == null || !read.hasReadFile()) {
                continue;
            }
            var content = read.getReadFile().getContent();
            if (content.isValidUtf8() && content.toStringUtf8().indexOf('\0') < 0) {
                context.indexFile(entry.getPath(), entry.getSize(), content.toStringUtf8());
            }
        }
    }

    private static ToolResult run(ToolRunner tools, ToolCall call) throws InterruptedException, SandboxLostException {
        try {
            var result = tools.run(call, TIMEOUT, event -> { });
            return result.getError().isEmpty() ? result : null;
        } catch (TimeoutException e) {
            return null;
        }
    }

    private static boolean skipped(String path) {
        for (var part : path.split("/")) {
            if (SKIPPED.contains(part)) {
                return true;
            }
        }
        return false;
    }
}
