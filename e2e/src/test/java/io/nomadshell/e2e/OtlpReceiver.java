package io.nomadshell.e2e;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * An OTLP trace receiver on loopback, as a collector's {@code otlphttp} receiver takes spans: POST
 * {@code /v1/traces} with an {@code ExportTraceServiceRequest} in protobuf. It keeps every span with
 * its resource's attributes.
 */
final class OtlpReceiver implements AutoCloseable {
    /** A span as received, its ids in hex, its attributes and its resource's as strings. */
    record Received(String name, String traceId, String spanId, String parentSpanId, long startNanos, long endNanos,
            Map<String, String> attributes, Map<String, String> resource, int statusCode) {
        String attribute(String key) {
            return attributes.getOrDefault(key, "");
        }
    }

    private final HttpServer server;
    private final List<Received> spans = new ArrayList<>();

    private OtlpReceiver(HttpServer server) {
        this.server = server;
    }

    static OtlpReceiver start() throws IOException {
        var server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        var receiver = new OtlpReceiver(server);
        server.createContext("/v1/traces", exchange -> {
            try (exchange) {
                var request = ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes());
                receiver.add(request);
                var body = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
        return receiver;
    }

    /** The base URL for {@code OTEL_EXPORTER_OTLP_ENDPOINT} (the exporter adds {@code /v1/traces}). */
    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private synchronized void add(ExportTraceServiceRequest request) {
        for (var resourceSpans : request.getResourceSpansList()) {
            var resource = strings(resourceSpans.getResource().getAttributesList());
            for (var scope : resourceSpans.getScopeSpansList()) {
                for (Span span : scope.getSpansList()) {
                    spans.add(new Received(span.getName(), hex(span.getTraceId().toByteArray()),
                            hex(span.getSpanId().toByteArray()), hex(span.getParentSpanId().toByteArray()),
                            span.getStartTimeUnixNano(), span.getEndTimeUnixNano(), strings(span.getAttributesList()),
                            resource, span.getStatus().getCodeValue()));
                }
            }
        }
        notifyAll();
    }

    synchronized List<Received> spans() {
        return List.copyOf(spans);
    }

    /** Waits (at most {@code timeoutMillis}) for a span that matches. */
    synchronized Optional<Received> await(Predicate<Received> wanted, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (true) {
            var found = spans.stream().filter(wanted).findFirst();
            long left = deadline - System.currentTimeMillis();
            if (found.isPresent() || left <= 0) {
                return found;
            }
            wait(left);
        }
    }

    private static Map<String, String> strings(List<KeyValue> attributes) {
        return attributes.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> text(kv.getValue()), (a, b) -> b));
    }

    private static String text(AnyValue value) {
        return switch (value.getValueCase()) {
            case STRING_VALUE -> value.getStringValue();
            case INT_VALUE -> Long.toString(value.getIntValue());
            case BOOL_VALUE -> Boolean.toString(value.getBoolValue());
            case DOUBLE_VALUE -> Double.toString(value.getDoubleValue());
            case ARRAY_VALUE -> value.getArrayValue().getValuesList().stream().map(OtlpReceiver::text)
                    .collect(Collectors.joining(","));
            default -> value.toString();
        };
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
