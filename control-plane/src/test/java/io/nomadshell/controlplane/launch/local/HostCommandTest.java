package io.nomadshell.controlplane.launch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostCommandTest {
    @TempDir
    Path dir;

    /** A mount cut short by a cancel could still mount, and the umount meant to undo it would be cut short too. */
    @Test
    void anInterruptedThreadStillRunsTheCommandToItsEndAndKeepsItsInterrupt() throws IOException {
        var done = dir.resolve("done");
        Thread.currentThread().interrupt();
        try {
            HostCommand.run("sh", "-c", "sleep 0.2 && touch " + done);
            assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is kept for the caller").isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(done).exists();
    }

    @Test
    void aFailingCommandSaysWhatItPrinted() {
        assertThatThrownBy(() -> HostCommand.run("sh", "-c", "echo no such image >&2; exit 3"))
                .isInstanceOf(IOException.class)
                .hasMessage("sh -c echo no such image >&2; exit 3 failed (3): no such image");
    }
}
