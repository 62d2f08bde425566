package io.nomadshell.gateway.http;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.file.FileService;

/**
 * The web UI at {@code /ui/} (and {@code /} sends browsers there): plain HTML, CSS and a JavaScript
 * module from the classpath, no build step. It uses the public REST and SSE API with the key the
 * user types, which stays in the browser.
 */
final class WebUi {
    private WebUi() {}

    static void install(ServerBuilder server) {
        server.serviceUnder("/ui/", FileService.builder(WebUi.class.getClassLoader(), "io/nomadshell/gateway/ui").build())
                .service("/", (ctx, req) -> HttpResponse.ofRedirect("/ui/"));
    }
}
