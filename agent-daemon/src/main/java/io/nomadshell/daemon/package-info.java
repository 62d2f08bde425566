/**
 * The agent daemon: the program inside each sandbox. {@link io.nomadshell.daemon.AgentDaemon}
 * reads {@link io.nomadshell.daemon.DaemonConfig} from the environment, dials the control plane
 * and runs the tool calls it sends until told to stop.
 */
@NullMarked
package io.nomadshell.daemon;

import org.jspecify.annotations.NullMarked;
