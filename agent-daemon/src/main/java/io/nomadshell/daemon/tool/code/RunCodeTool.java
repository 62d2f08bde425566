package io.nomadshell.daemon.tool.code;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.proto.v1.CodeOutput;
import io.nomadshell.proto.v1.RunCodeAction;
import io.nomadshell.proto.v1.RunCodeResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code run_code} tool: one Jupyter kernel per language for the whole job, so variables and
 * imports persist between calls. Code running past its timeout is interrupted and the kernel
 * survives; one that does not stop is restarted. A kernel that died is restarted and the result
 * says so, since its state is gone.
 */
public final class RunCodeTool implements AutoCloseable {

    static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);
    /** How long an interrupted kernel may take to stop before it is restarted. */
    private static final Duration INTERRUPT_GRACE = Duration.ofSeconds(10);
    /** Kernel spec names by language, as tslab and ipykernel install them. */
    private static final Map<String, String> SPECS = Map.of(
            "python", "python3", "py", "python3", "python3", "python3",
            "typescript", "tslab", "ts", "tslab",
            "javascript", "jslab", "js", "jslab");

    private static final Logger log = LoggerFactory.getLogger(RunCodeTool.class);

    private final JupyterServer server;
    private final Map<String, KernelSession> kernels = new HashMap<>();

    public RunCodeTool(JupyterServer server) {
        this.server = requireNonNull(server, "server");
    }

    /** Runs the code, sending stdout and stderr to {@code live} as they come. One call at a time. */
    public synchronized RunCodeResult run(RunCodeAction action, BiConsumer<CodeOutput.Kind, String> live)
            throws ToolException, InterruptedException {
        String language = action.getLanguage().isBlank() ? "python" : action.getLanguage().strip().toLowerCase(Locale.ROOT);
        String spec = SPECS.get(language);
        if (spec == null) {
            throw new ToolException("run_code: unknown language '" + action.getLanguage()
                    + "'; use python, typescript or javascript");
        }
        JupyterServer.Running running = server.ensureReady();
        boolean restarted = false;
        KernelSession kernel = kernels.get(spec);
        if (kernel != null && (kernel.generation() != running.generation() || !kernel.exists())) {
            kernels.remove(spec);
            kernel = null;
            restarted = true;
        }
        if (kernel == null) {
            kernel = KernelSession.start(server.http(), running, spec);
            kernels.put(spec, kernel);
        }
        restarted |= kernel.takeRestarted();

        Execution execution = kernel.execute(action.getCode(), live);
        boolean timedOut = false;
        try {
            boolean alive;
            try {
                alive = execution.await(timeoutOf(action));
            } catch (TimeoutException e) {
                timedOut = true;
                kernel.interrupt();
                try {
                    alive = execution.await(INTERRUPT_GRACE);
                } catch (TimeoutException stillBusy) {
                    log.warn("the {} kernel ignored the interrupt; restarting it", spec);
                    kernel.restart();
                    kernel.takeRestarted();
                    alive = false;
                }
            }
            restarted |= !alive;
            if (!alive) {
                kernel.takeRestarted();
            }
            return execution.result().setTimedOut(timedOut).setKernelRestarted(restarted).build();
        } finally {
            kernel.forget(execution);
        }
    }

    @Override
    public synchronized void close() {
        kernels.values().forEach(KernelSession::close);
        kernels.clear();
    }

    private static Duration timeoutOf(RunCodeAction action) {
        long ms = Integer.toUnsignedLong(action.getTimeoutMs());
        return ms == 0 ? DEFAULT_TIMEOUT : Duration.ofMillis(Math.min(ms, MAX_TIMEOUT.toMillis()));
    }
}
