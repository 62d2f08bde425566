/**
 * The archive a job's workspace is seeded with, read by one class on both sides of the seam: the
 * control plane checks an upload with it before any job exists, and the agent daemon unpacks it
 * with it (and checks every path again against its workspace).
 */
@NullMarked
package io.nomadshell.proto.seed;

import org.jspecify.annotations.NullMarked;
