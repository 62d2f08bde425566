/**
 * Takes pending jobs from the queue, asks a launcher for a sandbox for each, runs the agent loop
 * against it, and keeps no more jobs running than configured.
 */
@NullMarked
package io.nomadshell.controlplane.dispatch;

import org.jspecify.annotations.NullMarked;
