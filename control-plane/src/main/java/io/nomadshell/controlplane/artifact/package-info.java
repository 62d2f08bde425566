/** Where finished projects (zips) are kept until users download them. */
@NullMarked
package io.nomadshell.controlplane.artifact;

import org.jspecify.annotations.NullMarked;
