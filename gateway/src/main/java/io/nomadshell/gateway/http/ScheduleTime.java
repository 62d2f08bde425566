package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.util.TimeoutMode;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import java.time.Duration;

/**
 * Schedule may fetch a git repository before it answers: its REST faces get the fetch's time and a
 * margin instead of the default 10 s (framed gRPC calls have no server-side timeout of their own).
 */
public final class ScheduleTime implements DecoratingHttpServiceFunction {
    private static final Duration MARGIN = Duration.ofSeconds(30);

    private final Duration timeout;

    public ScheduleTime(Duration fetchTimeout) {
        this.timeout = requireNonNull(fetchTimeout, "fetchTimeout").plus(MARGIN);
    }

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        ctx.setRequestTimeout(TimeoutMode.SET_FROM_NOW, timeout);
        return delegate.serve(ctx, req);
    }
}
