/**
 * The warm pool: sandboxes started and attached before any job, with a pool member's identity only,
 * each claimed by one job in one round trip and never given back.
 */
@NullMarked
package io.nomadshell.controlplane.pool;

import org.jspecify.annotations.NullMarked;
