package io.nomadshell.controlplane.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Screenshots live beside the job's zip and go with it. */
class ArtifactStoreTest {
    @TempDir
    Path dir;

    @Test
    void aJobsScreenshotsZipAndSeedAreKeptTogetherAndDeletedTogether() throws Exception {
        var store = new ArtifactStore(dir);
        try (var upload = store.begin("j1")) {
            upload.write(new byte[] {1, 2, 3});
            upload.commit();
        }
        store.putScreenshot("j1", "s1c0", new byte[] {9, 9});
        store.putScreenshot("j2", "s1c0", new byte[] {7});
        Files.write(store.seedPath("j1"), new byte[] {5});
        assertThat(store.seed("j1")).isPresent();
        assertThat(store.screenshot("j1", "s1c0")).hasValueSatisfying(png -> assertThat(png).containsExactly(9, 9));
        assertThat(store.screenshot("j1", "s9c9")).isEmpty();
        assertThat(store.screenshot("j1", "../j2-screenshots/s1c0")).as("a call id is never a path").isEmpty();

        store.delete("j1");
        assertThat(store.find("j1")).isEmpty();
        assertThat(store.screenshot("j1", "s1c0")).isEmpty();
        assertThat(dir.resolve("j1-screenshots")).doesNotExist();
        assertThat(store.seed("j1")).as("its seed goes with it").isEmpty();
        assertThat(store.screenshot("j2", "s1c0")).as("another job's screenshot stays").isPresent();
        store.delete("j1"); // twice is harmless
        assertThatThrownBy(() -> store.putScreenshot("j1", "a/b", new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("j2-screenshots");
        }
    }
}
