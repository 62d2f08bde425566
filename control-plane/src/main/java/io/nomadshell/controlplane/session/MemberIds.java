package io.nomadshell.controlplane.session;

import io.nomadshell.controlplane.job.JobIds;
import java.util.regex.Pattern;

/**
 * Warm-pool member ids: {@code p} and 20 lowercase base-32 characters. A member attaches under this
 * id until a job claims it; it can never be mistaken for a job id ({@code j...}).
 */
public final class MemberIds {
    private static final Pattern SHAPE = Pattern.compile("p[a-z2-7]{20}");

    private MemberIds() {}

    /** As random as a job id, which only its first letter tells apart. */
    public static String next() {
        return "p" + JobIds.next().substring(1);
    }

    public static boolean isWellFormed(String candidate) {
        return SHAPE.matcher(candidate).matches();
    }
}
