package io.nomadshell.daemon.tool;

import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

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
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        events.stream().filter(ToolEvent::hasArchiveChunk).forEach(e -> bytes.writeBytes(e.getArchiveChunk().toByteArray()));
        return bytes.toByteArray();
    }
}
