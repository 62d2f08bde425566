package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.workspace.Workspace;
import io.nomadshell.daemon.workspace.WorkspaceException;
import io.nomadshell.proto.v1.ReadFileAction;
import io.nomadshell.proto.v1.ReadFileResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a file, or its first {@code max_bytes} bytes; a binary file is only described. */
final class ReadFileTool {

    static final int DEFAULT_MAX_BYTES = 256 * 1024;
    static final int MAX_BYTES = 1024 * 1024;
    static final int SNIFF_BYTES = 8000;

    private final Workspace workspace;

    ReadFileTool(Workspace workspace) {
        this.workspace = requireNonNull(workspace, "workspace");
    }

    ReadFileResult run(ReadFileAction action) throws ToolException, WorkspaceException, IOException {
        String given = action.getPath();
        Path file = workspace.resolve(given);
        if (!Files.exists(file)) {
            throw new ToolException("no such file: " + given);
        }
        if (Files.isDirectory(file)) {
            throw new ToolException("is a directory: " + given);
        }
        // A FIFO or device would block or never end.
        if (!Files.isRegularFile(file)) {
            throw new ToolException("not a regular file: " + given);
        }
        int cap = capOf(action);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] content = in.readNBytes(cap);
            boolean truncated = in.read() != -1;
            if (isBinary(content)) {
                return ReadFileResult.newBuilder().setBinary(true).setSize(Files.size(file)).build();
            }
            return ReadFileResult.newBuilder()
                    .setContent(ByteString.copyFrom(content))
                    .setTruncated(truncated)
                    .setSize(Files.size(file))
                    .build();
        }
    }

    /** As git judges it: a NUL byte in the first {@value #SNIFF_BYTES} bytes. */
    private static boolean isBinary(byte[] content) {
        for (int i = 0; i < Math.min(content.length, SNIFF_BYTES); i++) {
            if (content[i] == 0) {
                return true;
            }
        }
        return false;
    }

    private static int capOf(ReadFileAction action) {
        long requested = Integer.toUnsignedLong(action.getMaxBytes());
        return requested == 0 ? DEFAULT_MAX_BYTES : (int) Math.min(requested, MAX_BYTES);
    }
}
