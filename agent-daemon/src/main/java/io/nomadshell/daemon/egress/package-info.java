/**
 * The sandbox's way out: an HTTP proxy on {@code 127.0.0.1} inside the sandbox (tools find it
 * through {@code HTTP_PROXY} and friends) that carries {@code CONNECT} and plain {@code http://}
 * requests as tunnels over the Attach stream to the control plane, which decides whether each may
 * go. The sandbox itself has no network; a refusal comes back as a {@code 403} that says why.
 */
@NullMarked
package io.nomadshell.daemon.egress;

import org.jspecify.annotations.NullMarked;
