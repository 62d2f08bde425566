package io.nomadshell.scriptedmodel;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.Collection;

/** Counts tokens as current OpenAI models do (o200k_base), so usage figures are real tokens. */
final class TokenCounter {

    private TokenCounter() {
    }

    /** Loaded on first use: the vocabulary is large, and only requests that succeed need it. */
    private static final class Holder {
        static final Encoding O200K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    }

    /** Tokens in {@code text}; special-token markers in it count as ordinary text, as in a prompt. */
    static int count(String text) {
        return Holder.O200K.countTokensOrdinary(text);
    }

    static int count(Collection<String> texts) {
        return texts.stream().mapToInt(TokenCounter::count).sum();
    }

    /** The first {@code tokens} tokens of {@code text}, as a model cut there would have written it. */
    static String prefix(String text, int tokens) {
        return Holder.O200K.decode(Holder.O200K.encodeOrdinary(text, tokens).getTokens());
    }
}
