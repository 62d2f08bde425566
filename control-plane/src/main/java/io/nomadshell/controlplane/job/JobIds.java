package io.nomadshell.controlplane.job;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/** Job ids: {@code j} and 20 lowercase base-32 characters (100 random bits). */
public final class JobIds {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final Pattern SHAPE = Pattern.compile("j[a-z2-7]{20}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private JobIds() {}

    public static String next() {
        var id = new StringBuilder("j");
        for (int i = 0; i < 20; i++) {
            id.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
        }
        return id.toString();
    }

    /** Whether {@code candidate} could be a job id; anything else is rejected before reaching Redis. */
    public static boolean isWellFormed(String candidate) {
        return SHAPE.matcher(candidate).matches();
    }
}
