/** Starting and stopping the sandboxes jobs run in: one implementation per kind of sandbox. */
@NullMarked
package io.nomadshell.controlplane.launch;

import org.jspecify.annotations.NullMarked;
