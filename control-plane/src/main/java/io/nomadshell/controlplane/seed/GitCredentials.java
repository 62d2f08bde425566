package io.nomadshell.controlplane.seed;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.job.JobException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The operator's credentials for private git hosts ({@code --seed-git-credentials}): one line per
 * host, {@code HOST USERNAME:PASSWORD}; blank lines and lines starting with {@code #} are skipped.
 * Any job seeded from that host uses its credential unless the job brings its own.
 */
public final class GitCredentials {
    /** No host has a credential: the default. */
    public static final GitCredentials NONE = new GitCredentials(Map.of());

    private final Map<String, BasicCredential> byHost;

    private GitCredentials(Map<String, BasicCredential> byHost) {
        this.byHost = Map.copyOf(byHost);
    }

    /**
     * Reads the file; its errors name the line, never the secret on it.
     *
     * @throws IllegalArgumentException naming the flag and the line it cannot read
     */
    public static GitCredentials read(Path file) throws IOException {
        requireNonNull(file, "file");
        var byHost = new HashMap<String, BasicCredential>();
        var lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            var line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            var fields = line.split("\\s+", 2);
            int colon = fields.length == 2 ? fields[1].indexOf(':') : -1;
            if (colon < 1) {
                throw new IllegalArgumentException("--seed-git-credentials: line " + (i + 1) + " of " + file
                        + " is not 'HOST USERNAME:PASSWORD'");
            }
            try {
                byHost.put(fields[0].toLowerCase(Locale.ROOT),
                        new BasicCredential(fields[1].substring(0, colon), fields[1].substring(colon + 1)));
            } catch (JobException e) {
                throw new IllegalArgumentException("--seed-git-credentials: line " + (i + 1) + " of " + file + ": "
                        + e.getMessage());
            }
        }
        return new GitCredentials(byHost);
    }

    /** The credential the operator gave for {@code host} (lower case), if any. */
    public Optional<BasicCredential> forHost(String host) {
        return Optional.ofNullable(byHost.get(requireNonNull(host, "host")));
    }
}
