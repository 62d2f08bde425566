package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.websocket.WebSocketClient;
import com.linecorp.armeria.client.websocket.WebSocketSession;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.websocket.WebSocketFrame;
import com.linecorp.armeria.common.websocket.WebSocketFrameType;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Talks to the preview listener from outside as a browser would: the {@code Host} names the preview
 * (p<port>-<job>.localhost:<preview port>) while the connection goes to 127.0.0.1, since Java,
 * unlike browsers, does not resolve {@code *.localhost} by itself.
 */
final class PreviewClient implements AutoCloseable {
    /** The cookie the preview listener sets from a link. */
    static final String COOKIE = "nomad_shell_preview";

    private final ClientFactory factory = ClientFactory.builder().build();
    /** Its own: a WebSocket client sharing connections with the WebClient would ride its HTTP/2 one. */
    private final ClientFactory webSockets = ClientFactory.builder().useHttp2Preface(false).build();
    private final int previewPort;
    private final WebClient web;

    PreviewClient(int previewPort) {
        this.previewPort = previewPort;
        this.web = WebClient.builder("http://127.0.0.1:" + previewPort)
                .factory(factory)
                .responseTimeout(Duration.ofSeconds(60))
                .maxResponseLength(0)
                .build();
    }

    /** A GET of {@code url} (whose host is a preview host) with extra header name/value pairs. */
    AggregatedHttpResponse get(String url, String... headers) {
        var uri = URI.create(url);
        var request = RequestHeaders.builder(HttpMethod.GET, uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()))
                .authority(uri.getRawAuthority());
        for (int i = 0; i < headers.length; i += 2) {
            request.add(headers[i], headers[i + 1]);
        }
        return web.execute(request.build()).aggregate().join();
    }

    /**
     * Opens a link as a browser does: its answer sets the preview's cookie and redirects to the
     * address without the link. Returns the cookie as a {@code Cookie} header value.
     */
    String enter(String linkUrl) {
        var entered = get(linkUrl);
        assertThat(entered.status().code()).as("opening %s: %s", linkUrl, entered.contentUtf8()).isEqualTo(302);
        var setCookie = entered.headers().get(HttpHeaderNames.SET_COOKIE);
        assertThat(setCookie).as("the link's cookie").isNotNull().startsWith(COOKIE + "=");
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    /** A WebSocket to {@code url}'s path on its preview host, from a page of that origin. */
    WebSocketSession webSocket(String url, String cookie, String... subprotocols) throws Exception {
        var uri = URI.create(url);
        // HTTP/1.1, as browsers open WebSockets on a cleartext origin.
        var client = WebSocketClient.builder(SessionProtocol.H1C, Endpoint.of("127.0.0.1", previewPort))
                .factory(webSockets)
                .subprotocols(subprotocols)
                .autoFillOriginHeader(false)
                .addHeader(HttpHeaderNames.AUTHORITY, uri.getRawAuthority())
                .addHeader(HttpHeaderNames.ORIGIN, "http://" + uri.getRawAuthority())
                .addHeader(HttpHeaderNames.COOKIE, cookie)
                .build();
        return client.connect(uri.getRawPath()).get(30, TimeUnit.SECONDS);
    }

    /** The text and binary frames {@code session} receives, in order, as they come. */
    static BlockingQueue<WebSocketFrame> dataFrames(WebSocketSession session) {
        var frames = new LinkedBlockingQueue<WebSocketFrame>();
        session.inbound().subscribe(new Subscriber<>() {
            @Override
            public void onSubscribe(Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(WebSocketFrame frame) {
                if (frame.type() == WebSocketFrameType.TEXT || frame.type() == WebSocketFrameType.BINARY) {
                    frames.add(frame);
                }
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onComplete() {}
        });
        return frames;
    }

    /** The preview origin of a link: scheme, host and port. */
    static String origin(String url) {
        var uri = URI.create(url);
        return uri.getScheme() + "://" + uri.getRawAuthority();
    }

    @Override
    public void close() {
        webSockets.close();
        factory.close();
    }
}
