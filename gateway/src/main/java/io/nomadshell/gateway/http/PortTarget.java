package io.nomadshell.gateway.http;

import io.netty.util.AttributeKey;
import java.nio.file.Path;

/**
 * Where a proxied request goes: {@code port} in the job's sandbox, reached through the bridge
 * {@code socket}, at {@code pathAndQuery}. Set on the request by {@link PortAccess}.
 */
record PortTarget(int port, Path socket, String pathAndQuery) {
    static final AttributeKey<PortTarget> KEY = AttributeKey.valueOf(PortTarget.class, "target");
}
