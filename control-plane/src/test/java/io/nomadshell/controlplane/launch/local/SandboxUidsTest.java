package io.nomadshell.controlplane.launch.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.launch.LaunchException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxUidsTest {
    @TempDir
    Path tmp;

    @Test
    void eachSandboxGetsAUidOfItsOwnAndAFreedOneIsReused() throws Exception {
        var uids = new SandboxUids(2_000_000, 3, tmp.resolve("locks"), List.of());
        try (var first = uids.take(); var second = uids.take()) {
            assertThat(first.uid()).isEqualTo(2_000_000);
            assertThat(second.uid()).isEqualTo(2_000_001);
            first.close();
            try (var third = uids.take()) {
                assertThat(third.uid()).isEqualTo(2_000_000);
            }
        }
    }

    @Test
    void twoLaunchersSharingTheLocksNeverHandOutTheSameUid() throws Exception {
        var one = new SandboxUids(2_000_000, 4, tmp.resolve("locks"), List.of());
        var other = new SandboxUids(2_000_000, 4, tmp.resolve("locks"), List.of());
        try (var a = one.take(); var b = other.take()) {
            assertThat(a.uid()).isNotEqualTo(b.uid());
        }
    }

    @Test
    void uidsOfLocalUsersAndGroupsAreSkipped() throws Exception {
        var passwd = Files.writeString(tmp.resolve("passwd"), "svc:x:2000000:2000000::/:/bin/false\n# comment\n");
        var group = Files.writeString(tmp.resolve("group"), "grp:x:2000001:\n");
        var uids = new SandboxUids(2_000_000, 3, tmp.resolve("locks"), List.of(passwd, group));
        try (var lease = uids.take()) {
            assertThat(lease.uid()).isEqualTo(2_000_002);
            assertThatThrownBy(uids::take).isInstanceOf(LaunchException.class)
                    .hasMessage("all 3 sandbox uids from 2000000 are in use");
        }
    }

    @Test
    void rootIsNeverInTheRange() {
        assertThatThrownBy(() -> new SandboxUids(0, 10, tmp, List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
