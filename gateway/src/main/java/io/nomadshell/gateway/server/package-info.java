/** The runnable servers: the public one (gRPC, HTTP/JSON transcoding and the HTTP extras on one port) and the sandbox-facing Attach listener. */
@NullMarked
package io.nomadshell.gateway.server;

import org.jspecify.annotations.NullMarked;
