/** Operations: Prometheus metrics and the readiness probe. */
@NullMarked
package io.nomadshell.gateway.ops;

import org.jspecify.annotations.NullMarked;
