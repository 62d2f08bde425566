package io.nomadshell.controlplane.seed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.proto.seed.SeedLimits;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uploads on disk: one owner's alone, claimed once, deleted when unused past their TTL. */
class UploadsTest {
    private static final Duration TTL = Duration.ofMinutes(30);

    @TempDir
    Path temp;

    private Instant now = Instant.parse("2026-12-07T12:00:00Z");
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    @Test
    void anUploadNoJobTookIsDeletedAfterItsTtl() throws Exception {
        var uploads = new Uploads(temp.resolve("uploads"), SeedLimits.DEFAULTS, TTL, clock);
        var kept = receive(uploads, "alice");
        now = now.plus(TTL.minusMinutes(1));
        var fresh = receive(uploads, "alice");
        assertThat(kept.expiresAt()).isEqualTo(Instant.parse("2026-12-07T12:30:00Z"));

        now = now.plus(Duration.ofMinutes(2));
        assertThat(uploads.expire()).isEqualTo(1);
        assertThatThrownBy(() -> uploads.claim("alice", kept.id(), 1 << 30, temp.resolve("job.seed")))
                .isInstanceOfSatisfying(JobException.class, e -> assertThat(e.reason()).isEqualTo(JobException.Reason.NOT_FOUND));
        assertThat(uploads.claim("alice", fresh.id(), 1 << 30, temp.resolve("job.seed")).files()).isEqualTo(1);
        assertThat(temp.resolve("job.seed")).exists();
    }

    @Test
    void anotherOwnerCannotClaimIt() throws Exception {
        var uploads = new Uploads(temp.resolve("uploads"), SeedLimits.DEFAULTS, TTL, clock);
        var upload = receive(uploads, "alice");
        assertThatThrownBy(() -> uploads.claim("bob", upload.id(), 1 << 30, temp.resolve("job.seed")))
                .isInstanceOfSatisfying(JobException.class, e -> assertThat(e.reason()).isEqualTo(JobException.Reason.NOT_FOUND));
        assertThat(temp.resolve("job.seed")).doesNotExist();
    }

    private static Upload receive(Uploads uploads, String owner) throws Exception {
        var bytes = new ByteArrayOutputStream();
        try (var zip = new ZipArchiveOutputStream(bytes)) {
            zip.putArchiveEntry(new ZipArchiveEntry("a.txt"));
            zip.write("a".getBytes(StandardCharsets.UTF_8));
            zip.closeArchiveEntry();
        }
        try (var receipt = uploads.receive(owner)) {
            receipt.write(bytes.toByteArray(), 0, bytes.size());
            return receipt.finish();
        }
    }
}
