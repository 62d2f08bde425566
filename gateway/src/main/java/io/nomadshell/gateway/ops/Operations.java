package io.nomadshell.gateway.ops;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nomadshell.controlplane.JobManager;
import io.nomadshell.controlplane.tunnel.JobTunnels;
import io.nomadshell.gateway.http.LiveRoutes;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /metrics} (Prometheus text format) and {@code GET /internal/readiness} (200 once Redis
 * answers, 503 otherwise). Metrics: every request by service and method (Armeria's
 * {@code armeria_server_*}, which counts the Attach streams and watchers too), jobs queued and
 * active, open tunnels and event-stream watchers, and the control plane's job metrics (jobs by
 * state, sandbox ready time, tool latency, model calls and tokens), and each API key's use
 * ({@link KeyUsageGauges}).
 */
public final class Operations {
    private static final Duration READINESS_TIMEOUT = Duration.ofSeconds(2);
    private Operations() {}

    public static void install(ServerBuilder server, JobManager jobs, MeterBinder jobMetrics, JobTunnels tunnels,
            LiveRoutes live) {
        requireNonNull(server, "server");
        requireNonNull(jobs, "jobs");
        var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        jobMetrics.bindTo(registry);
        var load = new LoadGauge(jobs);
        Gauge.builder("nomadshell.jobs.queued", load, LoadGauge::queued)
                .description("Jobs waiting for a sandbox, over all replicas").strongReference(true).register(registry);
        Gauge.builder("nomadshell.jobs.active", load, LoadGauge::active)
                .description("Jobs starting or running, over all replicas").strongReference(true).register(registry);
        KeyUsageGauges.register(registry, jobs);
        Gauge.builder("nomadshell.tunnels.open", tunnels, JobTunnels::openTunnels)
                .description("Tunnels open to sandbox ports on this replica").strongReference(true).register(registry);
        Gauge.builder("nomadshell.event.watchers", live, LiveRoutes::eventWatchers)
                .description("Clients following job events over SSE on this replica").strongReference(true).register(registry);
        server.meterRegistry(registry)
                .decorator(MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("armeria.server")))
                .service("/metrics", (ctx, req) -> HttpResponse.of(CompletableFuture.supplyAsync(
                        () -> HttpResponse.of(HttpStatus.OK,
                                MediaType.parse("text/plain; version=0.0.4; charset=utf-8"), registry.scrape()),
                        ctx.blockingTaskExecutor())))
                .service("/internal/readiness", (ctx, req) -> HttpResponse.of(CompletableFuture
                        .supplyAsync(jobs::load, ctx.blockingTaskExecutor())
                        .orTimeout(READINESS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                        .handle((now, error) -> error != null
                                ? HttpResponse.of(HttpStatus.SERVICE_UNAVAILABLE, MediaType.JSON_UTF_8,
                                        "{\"status\":\"unavailable\",\"message\":\"Redis does not answer\"}")
                                : HttpResponse.of(HttpStatus.OK, MediaType.JSON_UTF_8,
                                        "{\"status\":\"ready\",\"queued\":%d,\"active\":%d}", now.queued(), now.active()))));
    }
}
