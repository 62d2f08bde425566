package io.nomadshell.controlplane.artifact;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A file a job keeps in an artifact store: its zip, or the screenshot one of its computer calls took.
 * {@link #name()} is how replicas name it to each other ({@code zip}, {@code screenshot:<call id>}) and
 * how the job's hash records whose store holds it ({@link #placementField()}).
 */
public record KeptFile(String jobId, String name) {
    private static final String ZIP = "zip";
    private static final String SCREENSHOT = "screenshot:";
    private static final Pattern CALL_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public KeptFile {
        requireNonNull(jobId, "jobId");
        requireNonNull(name, "name");
    }

    public static KeptFile zip(String jobId) {
        return new KeptFile(jobId, ZIP);
    }

    /** The screenshot of call {@code callId}; empty for a malformed call id (one that could name a path). */
    public static Optional<KeptFile> screenshot(String jobId, String callId) {
        return CALL_ID.matcher(requireNonNull(callId, "callId")).matches()
                ? Optional.of(new KeptFile(jobId, SCREENSHOT + callId))
                : Optional.empty();
    }

    /** The file another replica names {@code name}, if that is the name of one. */
    public static Optional<KeptFile> named(String jobId, String name) {
        if (name.equals(ZIP)) {
            return Optional.of(zip(jobId));
        }
        return name.startsWith(SCREENSHOT) ? screenshot(jobId, name.substring(SCREENSHOT.length())) : Optional.empty();
    }

    /** The call whose screenshot this is; empty for the zip. */
    Optional<String> callId() {
        return name.startsWith(SCREENSHOT) ? Optional.of(name.substring(SCREENSHOT.length())) : Optional.empty();
    }

    /** The field of the job's hash that names the store holding this file. */
    public String placementField() {
        return "stored_at:" + name;
    }

    /** "the zip of job j1", "the screenshot s1c0 of job j1": for messages. */
    public String words() {
        return callId().map(call -> "the screenshot " + call + " of job " + jobId).orElse("the zip of job " + jobId);
    }
}
