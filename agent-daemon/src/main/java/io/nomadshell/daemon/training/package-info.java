/** The build's training run of the daemon, which records its AOT cache. */
@NullMarked
package io.nomadshell.daemon.training;

import org.jspecify.annotations.NullMarked;
