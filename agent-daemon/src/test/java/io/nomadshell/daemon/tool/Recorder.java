package io.nomadshell.daemon.tool;

import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/** Records the events a call sends. */
final class Recorder implements Consumer<ToolEvent> {

    final List<ToolEvent> events = new CopyOnWriteArrayList<>();

    @Override
    public void accept(ToolEvent event) {
        events.add(event);
    }

    CallEvents forCall(String callId) {
        return new CallEvents(callId, this);
    }

    String output(OutputChunk.Stream stream) {
        StringBuilder text = new StringBuilder();
        for (ToolEvent event : events) {
            if (event.hasOutput() && event.getOutput().getStream() == stream) {
                text.append(event.getOutput().getData().toString(StandardCharsets.UTF_8));
            }
        }
        return text.toString();
    }

    byte[] archiveBytes() {
        return joined(ToolEvent::hasArchiveChunk, ToolEvent::getArchiveChunk);
    }

    byte[] bundleBytes() {
        return joined(ToolEvent::hasBundleChunk, ToolEvent::getBundleChunk);
    }

    private byte[] joined(Predicate<ToolEvent> carries, Function<ToolEvent, ByteString> chunk) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        events.stream().filter(carries).forEach(e -> bytes.writeBytes(chunk.apply(e).toByteArray()));
        return bytes.toByteArray();
    }
}
