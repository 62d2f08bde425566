package io.nomadshell.gateway.preview;

import com.linecorp.armeria.common.Cookie;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpHeadersBuilder;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.Locale;

/**
 * What crosses the preview proxy in headers. Into the sandbox: the browser's headers without its
 * {@code Authorization}, without our cookie, with the sandbox server's own {@code Authorization} when
 * it demands a token (Jupyter), and a same-origin {@code Origin} as the sandbox sees itself. Out
 * of it: nothing that could set state beyond the preview's own origin or on the browser at large —
 * cookies with a {@code Domain} (host-only ones are fine: the origin is the job's own), cookies of
 * our name, HSTS, Alt-Svc, Clear-Site-Data, key pins.
 */
final class SandboxHeaders {
    private static final List<AsciiString> DROPPED = List.of(
            HttpHeaderNames.STRICT_TRANSPORT_SECURITY,
            HttpHeaderNames.ALT_SVC,
            AsciiString.of("clear-site-data"),
            AsciiString.of("public-key-pins"),
            AsciiString.of("public-key-pins-report-only"),
            AsciiString.of("set-cookie2"));

    private SandboxHeaders() {}

    /** A request to the sandbox: the browser's headers as {@link #credentials} says, for {@code pathAndQuery}. */
    static RequestHeaders request(RequestHeaders browser, PortTarget target) {
        var headers = RequestHeaders.builder(browser.method(), target.pathAndQuery())
                .authority(target.upstreamAuthority());
        browser.forEach((name, value) -> {
            if (!name.toString().startsWith(":") && !name.equals(HttpHeaderNames.HOST)
                    && !name.equals(HttpHeaderNames.AUTHORIZATION) && !name.equals(HttpHeaderNames.COOKIE)
                    && !name.equals(HttpHeaderNames.ORIGIN)
                    // Plain bodies from a server whose token must be masked in them.
                    && !(target.serverToken() != null && name.equals(HttpHeaderNames.ACCEPT_ENCODING))) {
                headers.add(name, value);
            }
        });
        return headers.add(credentials(browser, target)).build();
    }

    /**
     * The headers that say who asks: the browser's cookies but ours, the sandbox server's own
     * {@code Authorization} if it has one, and {@code Origin} (the sandbox's own when the page was
     * this preview's, or as the browser sent it).
     */
    static HttpHeaders credentials(RequestHeaders browser, PortTarget target) {
        HttpHeadersBuilder headers = HttpHeaders.builder();
        var cookies = browser.cookies().stream().filter(cookie -> !ours(cookie.name())).toList();
        if (!cookies.isEmpty()) {
            headers.set(HttpHeaderNames.COOKIE, Cookie.toCookieHeader(cookies));
        }
        if (target.serverToken() != null) {
            headers.set(HttpHeaderNames.AUTHORIZATION, "token " + target.serverToken());
        }
        var origin = browser.get(HttpHeaderNames.ORIGIN);
        if (origin != null) {
            headers.set(HttpHeaderNames.ORIGIN,
                    origin.equalsIgnoreCase(target.origin()) ? target.upstreamOrigin() : origin);
        }
        return headers.build();
    }

    /** The sandbox's answer as the browser may see it. */
    static ResponseHeaders answer(ResponseHeaders sandbox, PortTarget target) {
        var headers = sandbox.toBuilder();
        DROPPED.forEach(headers::remove);
        headers.remove(HttpHeaderNames.SET_COOKIE);
        for (var setCookie : sandbox.getAll(HttpHeaderNames.SET_COOKIE)) {
            if (allowed(setCookie)) {
                headers.add(HttpHeaderNames.SET_COOKIE, setCookie);
            }
        }
        var location = sandbox.get(HttpHeaderNames.LOCATION);
        if (location != null && location.toLowerCase(Locale.ROOT).startsWith(target.upstreamOrigin())) {
            // A server that builds absolute addresses from its Host would send the browser to its loopback.
            headers.set(HttpHeaderNames.LOCATION, target.origin() + location.substring(target.upstreamOrigin().length()));
        }
        return headers.build();
    }

    /** Trailers: the same rules for the headers that could set state. */
    static HttpHeaders answerTrailers(HttpHeaders trailers) {
        if (trailers.isEmpty()) {
            return trailers;
        }
        var headers = trailers.toBuilder();
        DROPPED.forEach(headers::remove);
        headers.remove(HttpHeaderNames.SET_COOKIE);
        return headers.build();
    }

    /** A host-only cookie that is not ours; one that does not parse is dropped too. */
    private static boolean allowed(String setCookie) {
        var cookie = Cookie.fromSetCookieHeader(setCookie);
        return cookie != null && cookie.domain() == null && !ours(cookie.name()) && !namesADomain(setCookie);
    }

    /** Whether any attribute is {@code Domain}, however spaced or cased, as a browser would read it. */
    private static boolean namesADomain(String setCookie) {
        var parts = setCookie.split(";");
        for (int i = 1; i < parts.length; i++) {
            var attribute = parts[i];
            int equals = attribute.indexOf('=');
            var name = (equals < 0 ? attribute : attribute.substring(0, equals)).strip();
            if (name.equalsIgnoreCase("domain")) {
                return true;
            }
        }
        return false;
    }

    private static boolean ours(String name) {
        return name.equalsIgnoreCase(PreviewAccess.COOKIE);
    }
}
