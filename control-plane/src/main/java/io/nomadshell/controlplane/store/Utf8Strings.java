package io.nomadshell.controlplane.store;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lettuce.core.codec.StringCodec;
import java.nio.ByteBuffer;

/**
 * lettuce's UTF-8 {@link StringCodec} with a leaner decode: each reply string is copied once into an
 * array and made a {@code String}, where lettuce's wraps the buffer in a Netty buffer first (a wrapper,
 * its reference count, a view of the buffer and a scratch array for every field of every reply, the
 * largest share of the garbage a {@code GET /status/{id}} made). Encoding is lettuce's own.
 */
final class Utf8Strings extends StringCodec {
    static final Utf8Strings CODEC = new Utf8Strings();

    private Utf8Strings() {
        super(UTF_8);
    }

    @Override
    public String decodeKey(ByteBuffer bytes) {
        return decode(bytes);
    }

    @Override
    public String decodeValue(ByteBuffer bytes) {
        return decode(bytes);
    }

    /** Leaves the buffer's position where it was, as lettuce's does. */
    private static String decode(ByteBuffer bytes) {
        if (bytes.hasArray()) {
            return new String(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining(), UTF_8);
        }
        var copy = new byte[bytes.remaining()];
        bytes.get(bytes.position(), copy);
        return new String(copy, UTF_8);
    }
}
