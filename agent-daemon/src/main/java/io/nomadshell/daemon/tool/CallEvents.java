package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolEvent;
import java.util.function.Consumer;

/** Where a running call sends its events, each stamped with the call's id. */
record CallEvents(String callId, Consumer<ToolEvent> sink) {

    CallEvents {
        requireNonNull(callId, "callId");
        requireNonNull(sink, "sink");
    }

    void output(OutputChunk.Stream stream, byte[] data, int length) {
        sink.accept(ToolEvent.newBuilder()
                .setCallId(callId)
                .setOutput(OutputChunk.newBuilder()
                        .setStream(stream)
                        .setData(ByteString.copyFrom(data, 0, length)))
                .build());
    }

    void archiveChunk(byte[] data, int length) {
        sink.accept(ToolEvent.newBuilder()
                .setCallId(callId)
                .setArchiveChunk(ByteString.copyFrom(data, 0, length))
                .build());
    }

    void bundleChunk(byte[] data, int length) {
        sink.accept(ToolEvent.newBuilder()
                .setCallId(callId)
                .setBundleChunk(ByteString.copyFrom(data, 0, length))
                .build());
    }
}
