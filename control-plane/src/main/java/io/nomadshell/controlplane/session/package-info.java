/**
 * The live Attach streams: the daemon's credential check (the launch token spent once, then resume
 * secrets), sending tool calls and awaiting their results, heartbeats both ways.
 */
@NullMarked
package io.nomadshell.controlplane.session;

import org.jspecify.annotations.NullMarked;
