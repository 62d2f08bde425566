package io.nomadshell.daemon;

import java.io.PrintStream;
import java.util.TimeZone;
import org.jspecify.annotations.Nullable;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** One logger of {@link DaemonLogging}: events at or above its threshold go to stderr, one line each. */
final class DaemonLogger extends LegacyAbstractLogger {

    private static final long DAY_MILLIS = 86_400_000L;

    private final String simpleName;
    private final int threshold;

    DaemonLogger(String name, Level threshold) {
        this.name = name;
        this.simpleName = name.substring(name.lastIndexOf('.') + 1);
        this.threshold = threshold.toInt();
    }

    @Override public boolean isTraceEnabled() { return enabled(Level.TRACE); }
    @Override public boolean isDebugEnabled() { return enabled(Level.DEBUG); }
    @Override public boolean isInfoEnabled() { return enabled(Level.INFO); }
    @Override public boolean isWarnEnabled() { return enabled(Level.WARN); }
    @Override public boolean isErrorEnabled() { return enabled(Level.ERROR); }

    private boolean enabled(Level level) {
        return level.toInt() >= threshold;
    }

    @Override
    protected @Nullable String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, @Nullable Marker marker, String messagePattern,
                                               Object @Nullable [] arguments, @Nullable Throwable throwable) {
        var line = new StringBuilder(80);
        appendTime(line, System.currentTimeMillis());
        line.append(' ').append(level.name());
        line.append(" ".repeat(5 - level.name().length()));
        line.append(' ').append(simpleName).append(" - ")
                .append(MessageFormatter.basicArrayFormat(messagePattern, arguments)).append('\n');
        PrintStream err = System.err;
        // One event's line and stack trace together, not interleaved with another thread's.
        synchronized (err) {
            err.print(line);
            if (throwable != null) {
                throwable.printStackTrace(err);
            }
            err.flush();
        }
    }

    /** HH:mm:ss.SSS in the local time zone, without java.time's formatter and zone-rule classes. */
    static void appendTime(StringBuilder out, long epochMillis) {
        long local = epochMillis + TimeZone.getDefault().getOffset(epochMillis);
        long ofDay = Math.floorMod(local, DAY_MILLIS);
        appendPadded(out, ofDay / 3_600_000, 2).append(':');
        appendPadded(out, ofDay / 60_000 % 60, 2).append(':');
        appendPadded(out, ofDay / 1_000 % 60, 2).append('.');
        appendPadded(out, ofDay % 1_000, 3);
    }

    private static StringBuilder appendPadded(StringBuilder out, long value, int width) {
        String digits = Long.toString(value);
        for (int i = digits.length(); i < width; i++) {
            out.append('0');
        }
        return out.append(digits);
    }
}
