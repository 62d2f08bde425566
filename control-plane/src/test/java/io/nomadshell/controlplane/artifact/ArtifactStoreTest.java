package io.nomadshell.controlplane.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Screenshots live beside the job's zip and go with it; each file's placement is told once it is whole. */
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
        assertThat(store.find(screenshot("j1", "s1c0"))).hasValueSatisfying(
                png -> assertThat(png).hasBinaryContent(new byte[] {9, 9}));
        assertThat(store.find(screenshot("j1", "s9c9"))).isEmpty();
        assertThat(KeptFile.screenshot("j1", "../j2-screenshots/s1c0")).as("a call id is never a path").isEmpty();
        assertThat(KeptFile.named("j1", "screenshot:../j2-screenshots/s1c0")).isEmpty();

        store.delete("j1");
        assertThat(store.find(KeptFile.zip("j1"))).isEmpty();
        assertThat(store.find(screenshot("j1", "s1c0"))).isEmpty();
        assertThat(dir.resolve("j1-screenshots")).doesNotExist();
        assertThat(store.seed("j1")).as("its seed goes with it").isEmpty();
        assertThat(store.find(screenshot("j2", "s1c0"))).as("another job's screenshot stays").isPresent();
        store.delete("j1"); // twice is harmless
        assertThatThrownBy(() -> store.putScreenshot("j1", "a/b", new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("j2-screenshots", ".store-id");
        }
    }

    @Test
    void eachFileIsPlacedOnceWholeAndTheStoresIdOutlivesItsInstances() throws Exception {
        var placed = new ArrayList<String>();
        var store = new ArtifactStore(dir, (file, storeId) -> placed.add(file.name() + "@" + storeId));
        try (var upload = store.begin("j1")) {
            upload.write(new byte[] {1});
            // A zip given up on (closed without commit) is placed nowhere.
        }
        assertThat(placed).isEmpty();
        try (var upload = store.begin("j1")) {
            upload.write(new byte[] {1, 2});
            upload.commit();
        }
        store.putScreenshot("j1", "s2c0", new byte[] {3});
        assertThat(placed).containsExactly("zip@" + store.id(), "screenshot:s2c0@" + store.id());

        assertThat(new ArtifactStore(dir).id()).as("another replica on the same directory, or a restart")
                .isEqualTo(store.id());
        assertThat(new ArtifactStore(dir.resolve("other")).id()).isNotEqualTo(store.id());
        assertThat(KeptFile.named("j1", "zip")).contains(KeptFile.zip("j1"));
        assertThat(KeptFile.named("j1", "seed")).isEmpty();
        assertThat(List.of(KeptFile.zip("j1").words(), screenshot("j1", "s2c0").words()))
                .containsExactly("the zip of job j1", "the screenshot s2c0 of job j1");
    }

    private static KeptFile screenshot(String jobId, String callId) {
        return KeptFile.screenshot(jobId, callId).orElseThrow();
    }
}
