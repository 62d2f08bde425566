package io.nomadshell.controlplane.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.ControlPlaneOptions;
import io.nomadshell.controlplane.launch.Sandbox;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.session.SessionRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SandboxStartTest {
    private static final String JOB = "j1";

    private final SessionRegistry sessions = new SessionRegistry(Duration.ofSeconds(30), ControlPlaneOptions.DEFAULT_REATTACH_WINDOW);
    private final AtomicReference<String> exitReason = new AtomicReference<>();
    private final AtomicInteger settled = new AtomicInteger();
    private final AtomicInteger toRunning = new AtomicInteger();

    @AfterEach
    void closeSessions() {
        sessions.close();
    }

    @Test
    void aSandboxThatEndsBeforeItsDaemonAttachesFailsTheFirstStepThatNeedsIt() {
        sessions.expect(JOB);
        try (var start = start(Duration.ofSeconds(60))) {
            exitReason.set("the sandbox exited with code 1");
            assertThatThrownBy(start::ready).isInstanceOf(SandboxLostException.class)
                    .hasMessageContaining("exited with code 1");
        }
        assertThat(settled).as("cold starts given back").hasValue(1);
        assertThat(toRunning).as("moves to running").hasValue(0);
    }

    @Test
    void aDaemonThatDoesNotAttachInTimeFailsTheFirstStepThatNeedsIt() {
        sessions.expect(JOB);
        try (var start = start(Duration.ofMillis(300))) {
            assertThatThrownBy(start::ready).isInstanceOf(SandboxLostException.class)
                    .hasMessageContaining("did not connect");
        }
        assertThat(settled).hasValue(1);
        assertThat(toRunning).hasValue(0);
    }

    @Test
    void closingStopsTheWaitAndGivesTheColdStartBackOnce() {
        sessions.expect(JOB);
        var start = start(Duration.ofSeconds(60));
        start.close();
        assertThat(settled).as("settled once the waiting thread has ended").hasValue(1);
        assertThatThrownBy(start::ready).isInstanceOf(InterruptedException.class);
        assertThat(toRunning).hasValue(0);
    }

    private SandboxStart start(Duration timeout) {
        Sandbox sandbox = new Sandbox() {
            @Override
            public String jobId() {
                return JOB;
            }

            @Override
            public Optional<String> exitReason() {
                return Optional.ofNullable(exitReason.get());
            }

            @Override
            public void close() {}
        };
        return SandboxStart.await(JOB, sandbox, sessions, timeout, settled::incrementAndGet,
                () -> toRunning.incrementAndGet() > 0);
    }
}
