/** The one way the server signs: an HMAC-SHA256 key. */
@NullMarked
package io.nomadshell.controlplane.crypto;

import org.jspecify.annotations.NullMarked;
