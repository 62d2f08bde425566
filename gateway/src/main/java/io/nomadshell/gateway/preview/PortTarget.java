package io.nomadshell.gateway.preview;

import io.netty.util.AttributeKey;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * Where a proxied request goes: {@code port} in the job's sandbox, reached through the bridge
 * {@code socket}, at {@code pathAndQuery}. {@code origin} is the preview origin the browser sees;
 * {@code serverToken}, when set, is the token the sandbox server demands (Jupyter's): added on the way
 * in, masked on the way out. Set on the request by {@link PreviewAccess}.
 */
record PortTarget(int port, Path socket, String pathAndQuery, String origin, @Nullable String serverToken) {
    static final AttributeKey<PortTarget> KEY = AttributeKey.valueOf(PortTarget.class, "target");

    /** The origin the sandbox server sees in {@code Host}: its own loopback address. */
    String upstreamOrigin() {
        return "http://" + upstreamAuthority();
    }

    String upstreamAuthority() {
        return "127.0.0.1:" + port;
    }
}
