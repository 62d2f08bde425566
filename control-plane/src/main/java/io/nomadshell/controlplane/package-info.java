/**
 * The control plane: keeps jobs in Redis, starts a sandbox for each, and drives its agent loop.
 * {@link io.nomadshell.controlplane.ControlPlane} wires the parts; {@link io.nomadshell.controlplane.JobManager}
 * is what the public API calls.
 */
@NullMarked
package io.nomadshell.controlplane;

import org.jspecify.annotations.NullMarked;
