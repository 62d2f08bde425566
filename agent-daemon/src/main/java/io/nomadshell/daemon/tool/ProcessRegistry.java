package io.nomadshell.daemon.tool;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The processes the tools have started and that are still running, so that a shutdown can kill
 * them all. Once {@link #killAll()} has run, no new process starts.
 */
final class ProcessRegistry {

    private final Set<Process> live = new HashSet<>();
    private boolean closed;

    /** Starts {@code builder}'s process and tracks it until {@link #forget(Process)}. */
    synchronized Process start(ProcessBuilder builder) throws IOException, ToolException {
        if (closed) {
            throw new ToolException("the daemon is shutting down; no new commands run");
        }
        Process process = builder.start();
        live.add(process);
        return process;
    }

    synchronized void forget(Process process) {
        live.remove(process);
    }

    /** Kills every tracked process with all its descendants and refuses new ones. */
    void killAll() {
        List<Process> victims;
        synchronized (this) {
            closed = true;
            victims = List.copyOf(live);
        }
        victims.forEach(p -> killTree(p.toHandle()));
    }

    /**
     * Kills {@code root} and everything it started. Descendants go first: once their parent is
     * dead they are re-parented and no longer found through it. The snapshot is taken twice to
     * catch children forked while the first round was being killed.
     */
    static void killTree(ProcessHandle root) {
        for (int round = 0; round < 2; round++) {
            root.descendants().forEach(ProcessHandle::destroyForcibly);
        }
        root.destroyForcibly();
    }
}
