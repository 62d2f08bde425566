/**
 * The live Attach streams: a daemon's Hello and token check, sending tool calls and awaiting their
 * results, heartbeats both ways.
 */
@NullMarked
package io.nomadshell.controlplane.session;

import org.jspecify.annotations.NullMarked;
