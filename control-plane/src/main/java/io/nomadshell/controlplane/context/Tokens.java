package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/**
 * Tokens as current OpenAI models count them (o200k_base; {@code getEncodingForModel} maps newer
 * models wrongly, so the encoding is named): counting, and cutting a text to a number of tokens.
 */
public final class Tokens {
    private static final Encoding O200K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

    private Tokens() {}

    /** Tokens in {@code text}; special-token markers count as ordinary text, as in a prompt. */
    public static int count(String text) {
        requireNonNull(text, "text");
        return text.isEmpty() ? 0 : O200K.countTokensOrdinary(text);
    }

    /**
     * The text itself if it has at most {@code maxTokens} tokens; otherwise its head and tail (where
     * commands print what matters) around {@code marker}, together at most {@code maxTokens}.
     * {@code %d} in the marker becomes the number of characters left out.
     */
    public static String shorten(String text, int maxTokens, String marker) {
        requireNonNull(text, "text");
        requireNonNull(marker, "marker");
        var tokens = O200K.encodeOrdinary(text);
        if (tokens.size() <= maxTokens) {
            return text;
        }
        int room = Math.max(0, maxTokens - count(marker) - 8);
        int head = room / 3;
        int tail = room - head;
        var headText = decode(tokens, 0, head);
        var tailText = decode(tokens, tokens.size() - tail, tokens.size());
        int omitted = Math.max(0, text.length() - headText.length() - tailText.length());
        return headText + marker.replace("%d", Integer.toString(omitted)) + tailText;
    }

    /** The first tokens of {@code text}, at most {@code maxTokens} of them. */
    public static String head(String text, int maxTokens) {
        var tokens = O200K.encodeOrdinary(text);
        return tokens.size() <= maxTokens ? text : decode(tokens, 0, maxTokens);
    }

    private static String decode(IntArrayList tokens, int from, int to) {
        var part = new IntArrayList(Math.max(0, to - from));
        for (int i = from; i < to; i++) {
            part.add(tokens.get(i));
        }
        return O200K.decode(part);
    }
}
