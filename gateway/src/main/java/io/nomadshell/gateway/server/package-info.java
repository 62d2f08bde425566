/** The runnable server: one Armeria server with gRPC, HTTP/JSON transcoding and the HTTP extras on one port. */
@NullMarked
package io.nomadshell.gateway.server;

import org.jspecify.annotations.NullMarked;
