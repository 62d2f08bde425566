package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The server traces only when OpenTelemetry's own variables (or system properties) ask it to. */
class ServerTelemetryTest {
    @Test
    void nothingSetOrNoneAsksForNoTraces() {
        assertThat(ServerTelemetry.asked(Map.of(), new Properties())).isFalse();
        assertThat(ServerTelemetry.asked(Map.of("OTEL_TRACES_EXPORTER", "none"), new Properties())).isFalse();
        assertThat(ServerTelemetry.asked(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", " "), new Properties())).isFalse();
        assertThat(ServerTelemetry.asked(Map.of("OTEL_SERVICE_NAME", "shell"), new Properties())).isFalse();
    }

    @Test
    void anEndpointOrAnExporterAsksForTraces() {
        assertThat(ServerTelemetry.asked(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"), new Properties()))
                .isTrue();
        assertThat(ServerTelemetry.asked(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces"),
                new Properties())).isTrue();
        assertThat(ServerTelemetry.asked(Map.of("OTEL_TRACES_EXPORTER", "console"), new Properties())).isTrue();
    }

    @Test
    void aSystemPropertyWinsOverTheVariable() {
        var properties = new Properties();
        properties.setProperty("otel.traces.exporter", "none");
        assertThat(ServerTelemetry.asked(Map.of("OTEL_TRACES_EXPORTER", "otlp"), properties)).isFalse();
        properties.setProperty("otel.exporter.otlp.endpoint", "http://127.0.0.1:4317");
        assertThat(ServerTelemetry.asked(Map.of(), properties)).as("an endpoint, but no exporter").isFalse();
        properties.remove("otel.traces.exporter");
        assertThat(ServerTelemetry.asked(Map.of("OTEL_TRACES_EXPORTER", "none"), properties)).isFalse();
        assertThat(ServerTelemetry.asked(Map.of(), properties)).isTrue();
    }
}
