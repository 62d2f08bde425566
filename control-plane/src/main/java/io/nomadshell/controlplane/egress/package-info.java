/**
 * Egress: what a sandbox may reach outside, decided here and nowhere else. A sandbox has no network;
 * its daemon's HTTP proxy asks for each connection over the Attach stream, and {@link
 * io.nomadshell.controlplane.egress.EgressDialer} checks the host against the job's allowlist (within
 * the operator's {@link io.nomadshell.controlplane.egress.EgressPolicy}), resolves the name itself,
 * refuses loopback, private, link-local and other special addresses ({@link
 * io.nomadshell.controlplane.egress.SpecialAddresses}) unless the operator allowed them, connects to
 * the address it checked, and records every attempt as a job event.
 */
@NullMarked
package io.nomadshell.controlplane.egress;

import org.jspecify.annotations.NullMarked;
