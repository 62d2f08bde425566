package io.nomadshell.cli;

import java.time.Duration;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A duration as people write it on a command line: {@code 500ms}, {@code 60s}, {@code 2m}, {@code 7d}, or plain seconds. */
final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)?");

    @Override
    public Duration convert(String value) {
        var match = FORM.matcher(value.strip());
        if (!match.matches()) {
            throw new TypeConversionException("'" + value + "' is not a duration: write e.g. 500ms, 60s, 2m, 1h or 7d");
        }
        long amount = Long.parseLong(match.group(1));
        var unit = match.group(2) == null ? "s" : match.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            default -> Duration.ofSeconds(amount);
        };
    }
}
