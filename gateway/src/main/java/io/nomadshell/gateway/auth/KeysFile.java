package io.nomadshell.gateway.auth;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.quota.KeyQuota;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads an API keys file: one key a line, then optional {@code name=value} settings separated by
 * spaces; blank lines and lines starting with {@code #} are skipped. A line with only a key (the older
 * format) is a key without a name or limits. {@code webhook_secret} (at least 16 characters) is the
 * key its jobs' webhooks are signed with; a key without one may not ask for webhooks.
 * <pre>
 * # key                    settings (all optional; 0 or absent: no limit)
 * 3f9c1e...                name=team-a running_jobs=4 queued_jobs=8 tokens_per_day=2000000 usd_per_day=20
 * 77ab02...                name=ci max_cpu_mhz=2000 max_memory_mb=2048 webhook_secret=9b1d...
 * 5d1e44...
 * </pre>
 */
public final class KeysFile {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final List<String> SETTINGS = List.of("name", "running_jobs", "queued_jobs", "tokens_per_day",
            "usd_per_day", "max_cpu_mhz", "max_memory_mb", "webhook_secret");
    private static final int MIN_WEBHOOK_SECRET = 16;

    private KeysFile() {}

    /**
     * The keys of {@code lines} with their names and limits, for {@link ApiKeys#of(Map)}.
     *
     * @throws IllegalArgumentException naming the line and what is wrong with it (never the key)
     */
    public static Map<String, KeyQuota> parse(List<String> lines) {
        var quotas = new LinkedHashMap<String, KeyQuota>();
        var names = new HashSet<String>();
        for (var line : lines(lines)) {
            var settings = line.settings();
            var where = line.where();
            var name = settings.getOrDefault("name", ApiKeys.ownerOf(line.key()));
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException(where + ": name must be 1 to 64 letters, digits, '.', '_' or '-'");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException(where + ": another key is already named " + name);
            }
            if (quotas.containsKey(line.key())) {
                throw new IllegalArgumentException(where + " repeats a key of an earlier line");
            }
            quotas.put(line.key(), new KeyQuota(name, (int) number(settings, "running_jobs", where),
                    (int) number(settings, "queued_jobs", where), number(settings, "tokens_per_day", where),
                    dollars(settings, where), (int) number(settings, "max_cpu_mhz", where),
                    (int) number(settings, "max_memory_mb", where)));
        }
        return quotas;
    }

    /**
     * The webhook secrets of {@code lines}' keys that have one, by key, for {@link ApiKeys#withWebhookSecrets}.
     *
     * @throws IllegalArgumentException naming the line whose secret is too short (never the key or the secret)
     */
    public static Map<String, byte[]> webhookSecrets(List<String> lines) {
        var secrets = new LinkedHashMap<String, byte[]>();
        for (var line : lines(lines)) {
            var secret = line.settings().get("webhook_secret");
            if (secret != null) {
                if (secret.length() < MIN_WEBHOOK_SECRET) {
                    throw new IllegalArgumentException(line.where() + ": webhook_secret must be at least "
                            + MIN_WEBHOOK_SECRET + " characters (e.g. openssl rand -hex 32)");
                }
                secrets.put(line.key(), secret.getBytes(StandardCharsets.UTF_8));
            }
        }
        return secrets;
    }

    /** A key's line: the key, its settings, and where it is (for messages that never show the key). */
    private record Line(String key, Map<String, String> settings, String where) {}

    /** The file's key lines (blank lines and # comments skipped), each split into its key and settings. */
    private static List<Line> lines(List<String> lines) {
        requireNonNull(lines, "lines");
        var parsed = new ArrayList<Line>();
        for (int i = 0; i < lines.size(); i++) {
            var line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            var where = "line " + (i + 1) + " of the API keys file";
            var words = line.split("\\s+");
            if (words[0].contains("=")) {
                throw new IllegalArgumentException(where + " starts with a setting: each line starts with its key");
            }
            parsed.add(new Line(words[0], settings(words, where), where));
        }
        return parsed;
    }

    private static Map<String, String> settings(String[] words, String where) {
        var settings = new LinkedHashMap<String, String>();
        for (int w = 1; w < words.length; w++) {
            int eq = words[w].indexOf('=');
            var setting = eq < 0 ? words[w] : words[w].substring(0, eq);
            if (eq < 0 || !SETTINGS.contains(setting)) {
                throw new IllegalArgumentException(where + ": '" + setting + "' is not a setting (the settings are "
                        + String.join(", ", SETTINGS) + ", each as name=value)");
            }
            if (settings.put(setting, words[w].substring(eq + 1)) != null) {
                throw new IllegalArgumentException(where + " sets " + setting + " twice");
            }
        }
        return settings;
    }

    private static long number(Map<String, String> settings, String setting, String where) {
        var value = settings.getOrDefault(setting, "0");
        long most = setting.equals("tokens_per_day") ? Long.MAX_VALUE : Integer.MAX_VALUE;
        try {
            long parsed = Long.parseLong(value);
            if (parsed >= 0 && parsed <= most) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(where + ": " + setting + " must be a whole number from 0 (no limit), not '"
                + value + "'");
    }

    private static double dollars(Map<String, String> settings, String where) {
        var value = settings.getOrDefault("usd_per_day", "0");
        try {
            double parsed = Double.parseDouble(value);
            if (parsed >= 0 && Double.isFinite(parsed)) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(where + ": usd_per_day must be a number of dollars from 0 (no limit), not '"
                + value + "'");
    }
}
