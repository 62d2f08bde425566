/**
 * Path confinement: {@link io.nomadshell.daemon.workspace.Workspace} is the only way a tool turns
 * a path given by the model into a file-system path, and it never yields one outside the root.
 */
@NullMarked
package io.nomadshell.daemon.workspace;

import org.jspecify.annotations.NullMarked;
