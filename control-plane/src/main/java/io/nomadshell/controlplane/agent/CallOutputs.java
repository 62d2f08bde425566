package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.artifact.ArtifactStore;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.Screenshot;
import io.nomadshell.proto.v1.ToolResult;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What watchers see of a tool call between its start and its end: its output as it comes, coalesced
 * (see {@link LiveOutput}), and the screenshots it took, kept with the job's artifacts (not in Redis)
 * and linked from an event. One per control plane; closing it stops its timer.
 */
public final class CallOutputs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CallOutputs.class);
    /** The default window: at most one output event per call and stream in it. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMillis(50);

    private final JobStore store;
    private final ArtifactStore artifacts;
    private final Duration window;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("live-output-timer").factory());

    /** @param window how long output may wait to be written with what follows; zero writes every chunk at once */
    public CallOutputs(JobStore store, ArtifactStore artifacts, Duration window) {
        this.store = requireNonNull(store, "store");
        this.artifacts = requireNonNull(artifacts, "artifacts");
        this.window = requireNonNull(window, "window");
        if (window.isNegative()) {
            throw new IllegalArgumentException("the output window cannot be negative");
        }
    }

    /** Where call {@code callId}'s events go while it runs; close it when the call has ended. */
    LiveOutput live(String jobId, String callId) {
        return new LiveOutput(store, jobId, callId, timer, window);
    }

    /** Keeps the PNG a computer call returned, if any, and tells watchers where it is. */
    void screenshot(String jobId, String callId, ToolResult result) {
        if (!result.hasComputer() || result.getComputer().getPng().isEmpty()) {
            return;
        }
        var computer = result.getComputer();
        try {
            artifacts.putScreenshot(jobId, callId, computer.getPng().toByteArray());
        } catch (IOException e) {
            log.warn("The screenshot of call {} of job {} was not kept: {}", callId, jobId, e.getMessage());
            return;
        }
        store.appendEvent(jobId, JobEvent.newBuilder().setScreenshot(Screenshot.newBuilder()
                .setCallId(callId)
                .setUrl("/v1/jobs/" + jobId + "/screenshots/" + callId)
                .setWidth(computer.getImageWidth())
                .setHeight(computer.getImageHeight())));
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
