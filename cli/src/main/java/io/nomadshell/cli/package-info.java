/** The {@code nomad-shell} command: the server, the client commands, the demo and the scripted model. */
@NullMarked
package io.nomadshell.cli;

import org.jspecify.annotations.NullMarked;
