/**
 * Redis: jobs, their event streams and transcripts, the dispatch queue and leases. Every state
 * change is one Lua script (beside these classes as resources), so no reader sees it half-done.
 */
@NullMarked
package io.nomadshell.controlplane.store;

import org.jspecify.annotations.NullMarked;
