/** Jobs: the record, its states and the allowed transitions, and the operations users call. */
@NullMarked
package io.nomadshell.controlplane.job;

import org.jspecify.annotations.NullMarked;
