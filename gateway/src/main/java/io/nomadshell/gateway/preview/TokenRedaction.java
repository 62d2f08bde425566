package io.nomadshell.gateway.preview;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * Masks a secret wherever it appears in a stream of bytes, however the stream is cut into chunks:
 * each chunk is passed on but for its last few bytes, which could start the secret and wait for the
 * next one. Every occurrence becomes as many {@code x}s, so lengths (and Content-Length) hold.
 * One per response.
 */
final class TokenRedaction {
    private final byte[] secret;
    private byte[] held = new byte[0];

    /**
     * {@code answer} with {@code secret} masked in its body: Jupyter writes its token into the pages
     * it serves to whoever it let in, and the browser must never see it.
     */
    static HttpResponse masked(HttpResponse answer, String secret) {
        var redaction = new TokenRedaction(secret);
        var split = answer.split();
        var out = HttpResponse.streaming();
        split.headers().handle((headers, error) -> {
            if (error != null) {
                out.abort(error);
                return null;
            }
            out.write(headers);
            split.body().subscribe(new Subscriber<HttpData>() {
                private @Nullable Subscription upstream;

                @Override
                public void onSubscribe(Subscription subscription) {
                    upstream = subscription;
                    // A browser that goes away stops the sandbox's answer too.
                    out.whenComplete().exceptionally(cause -> {
                        subscription.cancel();
                        return null;
                    });
                    subscription.request(1);
                }

                @Override
                public void onNext(HttpData data) {
                    var subscription = requireNonNull(upstream, "upstream");
                    // One chunk in hand at a time: the next is asked for once the browser took this one.
                    if (out.tryWrite(redaction.next(data))) {
                        out.whenConsumed().thenRun(() -> subscription.request(1));
                    } else {
                        subscription.cancel();
                    }
                }

                @Override
                public void onError(Throwable cause) {
                    out.abort(cause);
                }

                @Override
                public void onComplete() {
                    var rest = redaction.rest();
                    if (!rest.isEmpty()) {
                        out.tryWrite(rest);
                    }
                    out.close();
                }
            });
            return null;
        });
        return out;
    }

    TokenRedaction(String secret) {
        this.secret = requireNonNull(secret, "secret").getBytes(StandardCharsets.UTF_8);
        if (this.secret.length == 0) {
            throw new IllegalArgumentException("nothing to redact");
        }
    }

    /** The bytes of {@code data} (and of those held back before) that can go on now, masked. */
    synchronized HttpData next(HttpData data) {
        var given = data.array();
        var all = Arrays.copyOf(held, held.length + given.length);
        System.arraycopy(given, 0, all, held.length, given.length);
        for (int i = 0; i + secret.length <= all.length; i++) {
            if (Arrays.equals(all, i, i + secret.length, secret, 0, secret.length)) {
                Arrays.fill(all, i, i + secret.length, (byte) 'x');
                i += secret.length - 1;
            }
        }
        int keep = Math.min(all.length, secret.length - 1);
        held = Arrays.copyOfRange(all, all.length - keep, all.length);
        return HttpData.wrap(Arrays.copyOfRange(all, 0, all.length - keep));
    }

    /** What was held back at the end of the stream. */
    synchronized HttpData rest() {
        return HttpData.wrap(held);
    }
}
