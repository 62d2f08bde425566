package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A user name and password (or token) for a private repository, sent to git as one HTTP header and
 * nowhere else. {@link #toString()} never shows the password, so a log line cannot.
 */
public record BasicCredential(String username, String password) {
    public BasicCredential {
        requireNonNull(username, "username");
        requireNonNull(password, "password");
        if (username.isEmpty() || password.isEmpty()) {
            throw new JobException(Reason.INVALID_ARGUMENT,
                    "a git credential needs both a username and a password (or token)");
        }
        if (username.contains(":") || (username + password).chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new JobException(Reason.INVALID_ARGUMENT,
                    "a git credential's username may not hold ':' and neither part may hold control characters");
        }
    }

    /** The header git sends: {@code Authorization: Basic base64(username:password)}. */
    String header() {
        return "Authorization: Basic " + Base64.getEncoder().encodeToString(
                (username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "BasicCredential[" + username + ", password hidden]";
    }
}
