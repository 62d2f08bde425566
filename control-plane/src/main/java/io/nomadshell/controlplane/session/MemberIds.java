package io.nomadshell.controlplane.session;

import java.security.SecureRandom;
import java.util.regex.Pattern;

/**
 * Warm-pool member ids: {@code p} and 20 lowercase base-32 characters. A member attaches under this
 * id until a job claims it; it can never be mistaken for a job id ({@code j...}).
 */
public final class MemberIds {
    private static final char[] ALPHABET = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
    private static final Pattern SHAPE = Pattern.compile("p[a-z2-7]{20}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private MemberIds() {}

    public static String next() {
        var id = new StringBuilder("p");
        for (int i = 0; i < 20; i++) {
            id.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
        }
        return id.toString();
    }

    public static boolean isWellFormed(String candidate) {
        return SHAPE.matcher(candidate).matches();
    }
}
