/**
 * Archives users upload to seed a job's workspace with: received and checked before any job exists,
 * kept per owner until a job takes one over (or their time runs out), sent to the job's sandbox
 * before its first step.
 */
@NullMarked
package io.nomadshell.controlplane.seed;

import org.jspecify.annotations.NullMarked;
