package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.jspecify.annotations.Nullable;

/**
 * A file the control plane sends in chunks, one call each, kept in a file outside the workspace
 * until it is used: offset 0 starts over (a resend after a failover), and every next chunk must begin
 * where the last one ended. Not thread-safe; its owner serializes the calls.
 */
final class StagedChunks {

    private final String name;
    private final Path directory;
    private @Nullable Path staged;
    private long received;

    /** Chunks of a {@code name} (for messages: "seed", "restore") staged in {@code directory}. */
    StagedChunks(String name, Path directory) {
        this.name = requireNonNull(name, "name");
        this.directory = requireNonNull(directory, "directory");
    }

    /** Adds the chunk at {@code offset} and returns the bytes received so far. */
    long append(long offset, ByteString data) throws ToolException, IOException {
        if (offset == 0) {
            discard();
            Files.createDirectories(directory);
            staged = Files.createTempFile(directory, name + "-", ".staged");
        } else if (staged == null || offset != received) {
            throw new ToolException(name + " chunk at offset " + offset + " does not follow the " + received
                    + " bytes received");
        }
        try (OutputStream out = Files.newOutputStream(staged, StandardOpenOption.APPEND)) {
            data.writeTo(out);
        }
        received += data.size();
        return received;
    }

    /** The file of the chunks received so far; only after {@link #append}. */
    Path file() {
        return requireNonNull(staged, "no chunk staged");
    }

    /** Deletes the file; the next chunk must start at offset 0. */
    void discard() throws IOException {
        if (staged != null) {
            Files.deleteIfExists(staged);
        }
        staged = null;
        received = 0;
    }
}
