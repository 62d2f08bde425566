/**
 * The agent loop: asks the model for the next step, runs the tool calls it returns in the sandbox,
 * records everything, and stops at {@code finish} or a limit.
 */
@NullMarked
package io.nomadshell.controlplane.agent;

import org.jspecify.annotations.NullMarked;
