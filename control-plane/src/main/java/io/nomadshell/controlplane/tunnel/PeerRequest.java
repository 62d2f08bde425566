package io.nomadshell.controlplane.tunnel;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * What one replica asks of the replica holding a job's sandbox: carry a connection to a port of it
 * ({@link #TUNNEL}) or start a service in it ({@link #ENSURE}); or of the replica serving the artifact
 * store that holds a file a job keeps: send that file ({@link #FILE}, argument {@link
 * io.nomadshell.controlplane.artifact.KeptFile#name()}). {@code to} names the replica meant to
 * serve it, so that it cannot be replayed to another; {@code nonce} makes it good for one connection.
 */
record PeerRequest(String op, String jobId, String argument, String to, long issuedAtMillis, String nonce) {
    static final String TUNNEL = "tunnel";
    static final String ENSURE = "ensure";
    static final String FILE = "file";
    /** One word of printable ASCII: the fields of a request travel space-separated on one line. */
    private static final Pattern WORD = Pattern.compile("[\\x21-\\x7e]{1,200}");

    PeerRequest {
        requireNonNull(op, "op");
        requireNonNull(to, "to");
        for (var field : new String[] {op, jobId, argument, nonce}) {
            if (!WORD.matcher(requireNonNull(field, "field")).matches()) {
                throw new IllegalArgumentException("not a field of a peer request: '" + field + "'");
            }
        }
    }
}
