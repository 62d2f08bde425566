package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.ToolDispatcher;
import io.nomadshell.proto.v1.Claim;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.ToolCall;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.Welcome;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each tool call on its own virtual thread and sends its events and result through the
 * outbox. Calls outlive the stream that brought them. A call id that is already running is not
 * started twice, and one that has finished is answered with its result again (the newest
 * {@value #REMEMBERED} are kept; an archive, whose zip travels as events and changes nothing, runs
 * again instead): a control plane that repeats its calls after a reconnect, or a
 * replica that took the job over and asks for the call its dead predecessor was waiting on, gets the
 * one result, and nothing runs twice.
 */
final class ToolCalls {

    private static final Logger log = LoggerFactory.getLogger(ToolCalls.class);

    private final ToolDispatcher tools;
    private final Outbox outbox;
    private static final int REMEMBERED = 64;

    private final Set<String> running = new HashSet<>();
    private final Map<String, ToolResult> finished = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ToolResult> eldest) {
            return size() > REMEMBERED;
        }
    };

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
        ToolResult done;
        synchronized (this) {
            done = finished.get(id);
            if (done == null && !running.add(id)) {
                log.warn("call {} is already running; its result comes when it ends", id);
                return;
            }
        }
        if (done != null) {
            log.info("call {} has run already; sending its result again", id);
            outbox.send(DaemonMessage.newBuilder().setToolResult(done).build());
            return;
        }
        Thread.ofVirtual().name("call-" + id).start(() -> {
            ToolResult result = null;
            try {
                result = tools.dispatch(call,
                        event -> outbox.send(DaemonMessage.newBuilder().setToolEvent(event).build()));
            } finally {
                synchronized (this) {
                    if (result != null && call.getActionCase() != ToolCall.ActionCase.ARCHIVE) {
                        finished.put(id, result);
                    }
                    running.remove(id);
                }
            }
            outbox.send(DaemonMessage.newBuilder().setToolResult(result).build());
        });
    }
}
