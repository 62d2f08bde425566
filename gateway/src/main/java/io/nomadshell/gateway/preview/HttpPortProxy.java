package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/**
 * Forwards a request to the sandbox port in its {@link PortTarget}, through the tunnel bridge, and
 * streams the answer back with {@link SandboxHeaders} applied. The browser's {@code Authorization}
 * and our cookie stay here; the sandbox sees a request for {@code 127.0.0.1:port}, and a same-origin
 * {@code Origin} as its own, so its same-origin checks hold.
 */
final class HttpPortProxy implements HttpService {
    private final BridgeClients clients;

    HttpPortProxy(BridgeClients clients) {
        this.clients = requireNonNull(clients, "clients");
    }

    @Override
    public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
        var target = requireNonNull(ctx.attr(PortTarget.KEY), "target (is PreviewAccess in front?)");
        var answer = clients.web(target.socket())
                .execute(req.withHeaders(SandboxHeaders.request(req.headers(), target)))
                .mapHeaders(headers -> SandboxHeaders.answer(headers, target))
                .mapTrailers(SandboxHeaders::answerTrailers);
        var token = target.serverToken();
        return (token == null ? answer : TokenRedaction.masked(answer, token))
                .recover(cause -> PreviewAccess.page(HttpStatus.BAD_GATEWAY,
                        "Nothing answered on port " + target.port() + " in the sandbox."));
    }
}
