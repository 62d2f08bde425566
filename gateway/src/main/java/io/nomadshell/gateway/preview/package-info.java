/**
 * Sandbox ports on origins of their own: the preview listener, a second port of the gateway, serves
 * {@code http://p<port>-<job id>.<preview domain>:<preview port>/} from {@code 127.0.0.1:<port>} in
 * that job's sandbox, over its tunnel bridge (HTTP and WebSocket). A browser gets in only with the
 * owner's signed link for that job and port, which becomes a cookie of that host alone; no API key or
 * UI credential ever reaches these origins, and what a sandbox answers cannot set state elsewhere.
 */
@NullMarked
package io.nomadshell.gateway.preview;

import org.jspecify.annotations.NullMarked;
