package io.nomadshell.daemon.link;

import static java.util.Objects.requireNonNull;

/**
 * What the daemon attaches with, held in memory only: the launch credential until the first Welcome,
 * then the resume secret of the latest Welcome (the launch credential is spent by then). Sent in the
 * call's {@code authorization} header, never in a message, a log line or {@link #toString()}.
 */
public final class AttachCredential {
    private volatile String header;

    private AttachCredential(String header) {
        this.header = header;
    }

    /** The launch credential the launcher handed the daemon. */
    public static AttachCredential launch(String token) {
        requireNonNull(token, "token");
        if (token.isBlank()) {
            throw new IllegalArgumentException("the launch credential is empty");
        }
        return new AttachCredential("Bearer " + token.strip());
    }

    /** The value of the {@code authorization} header for the next Attach. */
    String header() {
        return header;
    }

    /** A Welcome handed over a new resume secret: it, and only it, opens the next Attach. */
    void resumeWith(String jobId, String secret) {
        this.header = "Resume " + requireNonNull(jobId, "jobId") + "." + requireNonNull(secret, "secret");
    }

    @Override
    public String toString() {
        return "AttachCredential[(redacted)]";
    }
}
