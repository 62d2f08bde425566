/**
 * Tunnels over Attach, the control plane's end: each connection to a port bridge (a private Unix
 * socket) becomes a byte stream to {@code 127.0.0.1:port} inside a job's sandbox, multiplexed on the
 * daemon's Attach stream with per-tunnel credit. Port-forwarding and the HTTP/WebSocket proxy both
 * connect to a bridge, so they need no tunnel code of their own. The daemon opens tunnels too, for
 * its egress proxy; the {@link io.nomadshell.controlplane.egress.EgressDialer} decides those. The
 * byte pump itself ({@link io.nomadshell.proto.tunnel.ByteTunnel}) is shared with the daemon. A
 * bridge to a sandbox attached to another replica carries each connection to that replica's
 * {@link io.nomadshell.controlplane.tunnel.PeerListener} instead (one signed request line, then the
 * bytes), which serves it from its own streams and never passes it on. The same link carries the
 * files jobs keep (zips, screenshots) from the replica whose disk holds them
 * ({@link io.nomadshell.controlplane.tunnel.KeptFiles}).
 */
@NullMarked
package io.nomadshell.controlplane.tunnel;

import org.jspecify.annotations.NullMarked;
