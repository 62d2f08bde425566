/** The public gRPC services: map proto to the control plane's calls and back, nothing more. */
@NullMarked
package io.nomadshell.gateway.api;

import org.jspecify.annotations.NullMarked;
