/**
 * The Attach client: dials out to the control plane's {@code SandboxService.Attach} stream,
 * authenticates in the call's metadata (the launch token once, then the latest resume secret),
 * keeps the stream alive with heartbeats, redials when it breaks, and hands each tool call to the
 * tool dispatcher on its own virtual thread.
 */
@NullMarked
package io.nomadshell.daemon.link;

import org.jspecify.annotations.NullMarked;
