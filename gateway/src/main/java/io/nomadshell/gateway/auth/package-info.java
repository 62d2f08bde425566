/** API keys: who is calling, so each sees only the jobs it scheduled. */
@NullMarked
package io.nomadshell.gateway.auth;

import org.jspecify.annotations.NullMarked;
