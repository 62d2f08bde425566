package io.nomadshell.cli;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's OpenTelemetry: the SDK, set up by its own autoconfigure from the standard {@code OTEL_*}
 * variables (or {@code otel.*} system properties), when they name a traces exporter or an OTLP
 * endpoint; otherwise the API's no-op, so a server that nobody traces pays next to nothing. Only
 * traces: metrics are Prometheus's ({@code /metrics}) and logs go to stderr, unless those variables say otherwise.
 */
final class ServerTelemetry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerTelemetry.class);
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
    /** The variables (and their system properties) that ask for traces to be exported. */
    private static final Map<String, String> ASKING = Map.of(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "otel.exporter.otlp.endpoint",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otel.exporter.otlp.traces.endpoint",
            "OTEL_TRACES_EXPORTER", "otel.traces.exporter");

    private final @Nullable OpenTelemetrySdk sdk;

    private ServerTelemetry(@Nullable OpenTelemetrySdk sdk) {
        this.sdk = sdk;
    }

    /** The SDK as the process's variables and system properties configure it, or the no-op when they ask for no traces. */
    static ServerTelemetry fromEnvironment() {
        var env = System.getenv();
        var properties = System.getProperties();
        if (!asked(env, properties)) {
            return new ServerTelemetry(null);
        }
        var sdk = AutoConfiguredOpenTelemetrySdk.builder()
                // Defaults only: the variables the user set win.
                .addPropertiesSupplier(() -> Map.of("otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
                .addResourceCustomizer((resource, config) -> resource.getAttribute(SERVICE_NAME).startsWith("unknown_service")
                        ? resource.merge(Resource.builder().put(SERVICE_NAME, "nomad-shell").build()) : resource)
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
        log.info("Tracing: spans of every job are exported ({})", describe(env, properties));
        return new ServerTelemetry(sdk);
    }

    /** Whether the variables name an exporter for traces or an OTLP endpoint, and do not say the exporter is "none". */
    static boolean asked(Map<String, String> env, Properties properties) {
        var exporter = value(env, properties, "OTEL_TRACES_EXPORTER", "otel.traces.exporter");
        if (exporter != null && exporter.strip().equalsIgnoreCase("none")) {
            return false;
        }
        return ASKING.entrySet().stream().map(entry -> value(env, properties, entry.getKey(), entry.getValue()))
                .anyMatch(value -> value != null && !value.isBlank());
    }

    private static @Nullable String value(Map<String, String> env, Properties properties, String variable, String property) {
        var set = properties.getProperty(property);
        return set != null ? set : env.get(variable);
    }

    private static String describe(Map<String, String> env, Properties properties) {
        var parts = new StringBuilder();
        ASKING.forEach((variable, property) -> {
            var value = value(env, properties, variable, property);
            if (value != null && !value.isBlank()) {
                parts.append(parts.isEmpty() ? "" : ", ").append(variable).append('=').append(value);
            }
        });
        return parts.toString();
    }

    OpenTelemetry openTelemetry() {
        return sdk != null ? sdk : OpenTelemetry.noop();
    }

    /** Sends what spans are still buffered, within a bound: a stopping server must not hang on a collector. */
    @Override
    public void close() {
        if (sdk != null) {
            sdk.shutdown().join(5, TimeUnit.SECONDS);
        }
    }
}
