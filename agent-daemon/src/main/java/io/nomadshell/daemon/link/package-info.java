/**
 * The Attach client: dials out to the control plane's {@code SandboxService.Attach} stream,
 * authenticates with the job token, keeps the stream alive with heartbeats, redials when it
 * breaks, and hands each tool call to the tool dispatcher on its own virtual thread.
 */
@NullMarked
package io.nomadshell.daemon.link;

import org.jspecify.annotations.NullMarked;
