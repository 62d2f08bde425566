/**
 * The byte pump of a tunnel on the Attach stream, one class used by both ends of the seam (the
 * control plane and the agent daemon): frames in, bytes out, with per-tunnel credit.
 */
@NullMarked
package io.nomadshell.proto.tunnel;

import org.jspecify.annotations.NullMarked;
