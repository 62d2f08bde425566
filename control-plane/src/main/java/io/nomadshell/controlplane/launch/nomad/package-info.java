/**
 * The Nomad launcher: each job's sandbox is a dispatched instance of the parameterized batch job
 * in {@code nomad-jobs/sandbox.nomad.hcl}, run by the docker driver from the sandbox image.
 */
@NullMarked
package io.nomadshell.controlplane.launch.nomad;

import org.jspecify.annotations.NullMarked;
