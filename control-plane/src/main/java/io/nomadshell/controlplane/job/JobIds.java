package io.nomadshell.controlplane.job;

import java.security.SecureRandom;

/** Job ids: {@code j} and 20 lowercase base-32 characters (100 random bits). */
public final class JobIds {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final int LENGTH = 21;
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
        // By hand, not a regex: every GET /status/{id} asks, and a Matcher each time was garbage.
        if (candidate.length() != LENGTH || candidate.charAt(0) != 'j') {
            return false;
        }
        for (int i = 1; i < LENGTH; i++) {
            var c = candidate.charAt(i);
            if (!(c >= 'a' && c <= 'z') && !(c >= '2' && c <= '7')) {
                return false;
            }
        }
        return true;
    }
}
