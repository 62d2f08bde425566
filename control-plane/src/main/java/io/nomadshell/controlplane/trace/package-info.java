/**
 * A job's OpenTelemetry spans, named in one place: schedule, queue, run (launch, attach, model calls,
 * tool calls with the daemon's side of each, archive). Only the API: the server hands in an SDK, or the
 * no-op.
 */
@NullMarked
package io.nomadshell.controlplane.trace;

import org.jspecify.annotations.NullMarked;
