package io.nomadshell.gateway.http;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Forwards a request to the sandbox port in its {@link PortTarget}, through the tunnel bridge, and
 * streams the answer back. The caller's credentials stay here; the sandbox sees a plain request for
 * {@code 127.0.0.1:port}.
 */
final class HttpPortProxy implements HttpService {
    private final BridgeClients clients;

    HttpPortProxy(BridgeClients clients) {
        this.clients = requireNonNull(clients, "clients");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var target = requireNonNull(ctx.attr(PortTarget.KEY), "target (is PortAccess in front?)");
        var headers = RequestHeaders.builder(req.method(), target.pathAndQuery())
                .authority("127.0.0.1:" + target.port());
        req.headers().forEach((name, value) -> {
            if (!name.toString().startsWith(":") && !name.equals(HttpHeaderNames.AUTHORIZATION)
                    && !name.equals(HttpHeaderNames.COOKIE) && !name.equals(HttpHeaderNames.HOST)) {
                headers.add(name, value);
            }
        });
        var cookies = theirCookies(req);
        if (!cookies.isEmpty()) {
            headers.set(HttpHeaderNames.COOKIE, Cookie.toCookieHeader(cookies));
        }
        return clients.web(target.socket())
                .execute(req.withHeaders(headers.build()))
                .recover(cause -> JsonErrors.of(HttpStatus.BAD_GATEWAY, Status.Code.UNAVAILABLE,
                        "nothing answered on port " + target.port() + " in the sandbox"));
    }

    /** The request's cookies but ours: the link is for the gateway only. */
    private static Set<Cookie> theirCookies(HttpRequest req) {
        return req.headers().cookies().stream()
                .filter(cookie -> !cookie.name().equals(JobAccess.LINK_COOKIE))
                .collect(Collectors.toSet());
    }
}
