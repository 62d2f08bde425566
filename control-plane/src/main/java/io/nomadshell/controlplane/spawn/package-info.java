/** Starting child processes that die with the control plane, even on {@code kill -9}. */
@NullMarked
package io.nomadshell.controlplane.spawn;

import org.jspecify.annotations.NullMarked;
