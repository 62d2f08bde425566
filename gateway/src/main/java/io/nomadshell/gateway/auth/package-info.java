/**
 * Who may reach what: {@link io.nomadshell.gateway.auth.AccessGuard}, the one check in front of every
 * route and method; API keys, so each caller sees only the jobs it scheduled; signed links for
 * browsers.
 */
@NullMarked
package io.nomadshell.gateway.auth;

import org.jspecify.annotations.NullMarked;
