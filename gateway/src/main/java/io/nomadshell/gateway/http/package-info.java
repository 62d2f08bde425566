/** What transcoding cannot do: plain-text submissions, streamed downloads, JSON errors. */
@NullMarked
package io.nomadshell.gateway.http;

import org.jspecify.annotations.NullMarked;
