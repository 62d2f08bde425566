package io.nomadshell.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class DaemonLoggingTest {

    @Test
    void isTheProviderTheJvmOptionsName() {
        assertThat(LoggerFactory.getILoggerFactory()).isInstanceOf(DaemonLogging.class);
    }

    @Test
    void writesInfoAndUpForTheDaemonWarnAndUpForGrpcAndOnlyErrorsForNettysBootstrap() {
        var logging = new DaemonLogging();
        Logger daemon = logging.getLogger("io.nomadshell.daemon.link.AttachClient");
        Logger grpc = logging.getLogger("io.grpc.netty.shaded.io.netty.channel.DefaultChannelPipeline");
        Logger bootstrap = logging.getLogger("io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap");

        assertThat(daemon.isDebugEnabled()).isFalse();
        assertThat(daemon.isInfoEnabled()).isTrue();
        assertThat(grpc.isInfoEnabled()).isFalse();
        assertThat(grpc.isWarnEnabled()).isTrue();
        assertThat(bootstrap.isWarnEnabled()).isFalse();
        assertThat(bootstrap.isErrorEnabled()).isTrue();
    }

    @Test
    void writesOneLinePerEventToStderrWithItsStackTraceAfterIt() {
        Logger log = new DaemonLogging().getLogger("io.nomadshell.daemon.link.AttachClient");
        String err = stderrOf(() -> {
            log.warn("link to {} lost ({})", "unix:///a.sock", "UNAVAILABLE", new IllegalStateException("boom"));
            log.debug("not written");
            log.info("attached");
        });

        String[] lines = err.split("\n");
        assertThat(lines[0]).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN  AttachClient - "
                + "link to unix:///a\\.sock lost \\(UNAVAILABLE\\)");
        assertThat(lines[1]).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(lines[2]).startsWith("\tat ");
        assertThat(lines[lines.length - 1]).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  AttachClient - attached");
        assertThat(err).doesNotContain("not written");
    }

    @Test
    void writesTheTimeOfDayInTheLocalZone() {
        TimeZone zone = TimeZone.getDefault();
        // 2026-12-07T23:59:58.007Z
        long epochMillis = 1_796_687_998_007L;
        try {
            TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
            assertThat(timeOf(epochMillis)).isEqualTo("23:59:58.007");
            TimeZone.setDefault(TimeZone.getTimeZone("GMT+02:00"));
            assertThat(timeOf(epochMillis)).isEqualTo("01:59:58.007");
        } finally {
            TimeZone.setDefault(zone);
        }
    }

    private static String timeOf(long epochMillis) {
        var out = new StringBuilder();
        DaemonLogger.appendTime(out, epochMillis);
        return out.toString();
    }

    private static String stderrOf(Runnable action) {
        PrintStream stderr = System.err;
        var captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(stderr);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
