/** Metrics about jobs, taken from what the store writes, for any Micrometer registry. */
@NullMarked
package io.nomadshell.controlplane.metrics;

import org.jspecify.annotations.NullMarked;
