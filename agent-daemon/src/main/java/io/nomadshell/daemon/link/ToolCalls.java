package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.ToolDispatcher;
import io.nomadshell.proto.v1.Claim;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.Welcome;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each tool call on its own virtual thread and sends its events and result through the
 * outbox. Calls outlive the stream that brought them. A call id that is already running is not
 * started twice, so a control plane that repeats its calls after a reconnect is harmless.
 */
final class ToolCalls {

    private static final Logger log = LoggerFactory.getLogger(ToolCalls.class);

    private final ToolDispatcher tools;
    private final Outbox outbox;
    private final Set<String> running = ConcurrentHashMap.newKeySet();

    ToolCalls(ToolDispatcher tools, Outbox outbox) {
        this.tools = requireNonNull(tools, "tools");
        this.outbox = requireNonNull(outbox, "outbox");
    }

    /** What the Welcome tells the tools: the token their Jupyter Server demands, when it names one. */
    void welcomed(Welcome welcome) {
        if (!welcome.getJupyterToken().isEmpty()) {
            tools.useJupyterToken(welcome.getJupyterToken());
        }
    }

    /** What a claim tells the tools: the token of its job's Jupyter Server. */
    void claimed(Claim claim) {
        if (!claim.getJupyterToken().isEmpty()) {
            tools.useJupyterToken(claim.getJupyterToken());
        }
    }

    void start(ToolCall call) {
        String id = call.getCallId();
        if (!running.add(id)) {
            log.warn("call {} is already running; ignoring the repeat", id);
            return;
        }
        Thread.ofVirtual().name("call-" + id).start(() -> {
            try {
                ToolResult result = tools.dispatch(call,
                        event -> outbox.send(DaemonMessage.newBuilder().setToolEvent(event).build()));
                outbox.send(DaemonMessage.newBuilder().setToolResult(result).build());
            } finally {
                running.remove(id);
            }
        });
    }
}
