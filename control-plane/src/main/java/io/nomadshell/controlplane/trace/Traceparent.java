package io.nomadshell.controlplane.trace;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A span's context as a W3C {@code traceparent} string, the one form it takes outside this process: with
 * the job in Redis (so whichever replica runs the job goes on with its trace), in the Nomad dispatch
 * meta, and on the tool calls sent over Attach.
 */
public final class Traceparent {
    private static final String HEADER = "traceparent";
    private static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public @Nullable String get(@Nullable Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private Traceparent() {}

    /** The span's traceparent; empty for a span that is not recorded anywhere (no SDK). */
    public static String of(Span span) {
        return of(span.getSpanContext());
    }

    static String of(SpanContext context) {
        var written = new String[] {""};
        W3CTraceContextPropagator.getInstance().inject(Context.root().with(Span.wrap(context)), written,
                (carrier, key, value) -> {
                    if (HEADER.equals(key) && carrier != null) {
                        carrier[0] = value;
                    }
                });
        return written[0];
    }

    /** The context a traceparent names; the root context for none, or for one that does not parse. */
    public static Context parse(@Nullable String traceparent) {
        if (traceparent == null || traceparent.isEmpty()) {
            return Context.root();
        }
        return W3CTraceContextPropagator.getInstance().extract(Context.root(), Map.of(HEADER, traceparent), GETTER);
    }
}
