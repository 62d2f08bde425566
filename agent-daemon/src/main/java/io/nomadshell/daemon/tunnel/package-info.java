/**
 * Tunnels on the Attach stream, the daemon's end: byte streams from the control plane to {@code
 * 127.0.0.1:port} inside the sandbox (so a desktop or a dev server is reachable with no inbound
 * port), and from the egress proxy out through the control plane; frames with per-tunnel credit,
 * pumped by the {@link io.nomadshell.proto.tunnel.ByteTunnel} both ends share.
 */
@NullMarked
package io.nomadshell.daemon.tunnel;

import org.jspecify.annotations.NullMarked;
