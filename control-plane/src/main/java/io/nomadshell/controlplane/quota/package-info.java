/**
 * Limits per API key: what each key may have queued and running, spend on the model each UTC day, and
 * ask for its sandboxes; counted and admitted in Redis in one script, so replicas agree.
 */
@NullMarked
package io.nomadshell.controlplane.quota;

import org.jspecify.annotations.NullMarked;
