/**
 * Tunnels: byte streams from the control plane to {@code 127.0.0.1:port} inside the sandbox, carried
 * as frames on the Attach stream with per-tunnel credit, so a desktop or a dev server is reachable
 * with no inbound port on the sandbox.
 */
@NullMarked
package io.nomadshell.daemon.tunnel;

import org.jspecify.annotations.NullMarked;
