/**
 * Context management: each model request is built under a token budget (counted with the model's
 * real tokenizer) from the system prompt, the task, a running summary, pinned notes and the newest
 * turns verbatim; older turns are condensed into the summary; large tool outputs stay out of line
 * with a preview; the {@code recall} tool searches everything the job has seen; and repeated calls
 * that make no progress are caught.
 */
@NullMarked
package io.nomadshell.controlplane.context;

import org.jspecify.annotations.NullMarked;
