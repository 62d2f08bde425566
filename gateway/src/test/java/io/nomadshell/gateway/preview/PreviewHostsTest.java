package io.nomadshell.gateway.preview;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class PreviewHostsTest {
    private static final String JOB = "jabcdefghijklmnopqrst";
    private final PreviewHosts hosts = new PreviewHosts("localhost", () -> 8081);

    @Test
    void aPreviewHostNamesItsJobAndPort() {
        var target = Optional.of(new PreviewHosts.Target(JOB, 8000));
        assertThat(hosts.parse("p8000-" + JOB + ".localhost:8081")).isEqualTo(target);
        assertThat(hosts.parse("p8000-" + JOB + ".localhost")).as("no port").isEqualTo(target);
        assertThat(hosts.parse("P8000-" + JOB.toUpperCase() + ".LocalHost:8081")).as("any case").isEqualTo(target);
        assertThat(hosts.origin(JOB, 8000)).isEqualTo("http://p8000-" + JOB + ".localhost:8081");
    }

    @Test
    void anythingElseIsNoPreview() {
        for (var authority : new String[] {
            "localhost:8081", "127.0.0.1:8081", "p8000-" + JOB + ".localhost:8080", "p8000-" + JOB + ".example.com:8081",
            "p8000-" + JOB + ".localhost.:8081", "x.p8000-" + JOB + ".localhost:8081", "p0-" + JOB + ".localhost:8081",
            "p65536-" + JOB + ".localhost:8081", "p8000-jshort.localhost:8081", "p8000-" + JOB + "localhost:8081",
            "p8000-" + JOB + ".localhost:8081:8081", "p08000-" + JOB + ".evil.localhost:8081", ""}) {
            assertThat(hosts.parse(authority)).as(authority).isEmpty();
        }
        assertThat(hosts.parse(null)).isEmpty();
    }
}
