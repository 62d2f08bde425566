package io.nomadshell.controlplane.context;

import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import java.util.ArrayList;
import java.util.List;

/**
 * The images a job shows the model (screenshots, plots). Only the newest {@value #KEPT} stay in the
 * prompt; older ones become a short placeholder, since a stale screenshot costs many tokens and
 * says little.
 */
public final class Images {
    static final int KEPT = 3;
    static final String OMITTED = "[an older image was removed to save context; take a new screenshot to see the screen now]";
    public static final String NOT_SHOWN = "[image not shown: the model endpoint does not take images]";

    private Images() {}

    /**
     * Walks {@code messages} from the newest, replacing every image part past the newest
     * {@value #KEPT} (counting {@code seen} newer ones already) with {@link #OMITTED}, in place.
     *
     * @return the images seen so far, these included
     */
    static int keepNewest(List<ChatCompletionMessageParam> messages, int seen) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            var message = messages.get(i);
            if (!message.isUser() || !message.asUser().content().isArrayOfContentParts()) {
                continue;
            }
            var original = message.asUser().content().asArrayOfContentParts();
            var kept = new ArrayList<ChatCompletionContentPart>();
            boolean changed = false;
            for (int p = original.size() - 1; p >= 0; p--) {
                var part = original.get(p);
                if (part.isImageUrl() && ++seen > KEPT) {
                    kept.addFirst(ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text(OMITTED).build()));
                    changed = true;
                } else {
                    kept.addFirst(part);
                }
            }
            if (changed) {
                messages.set(i, ChatCompletionMessageParam.ofUser(message.asUser().toBuilder()
                        .content(ChatCompletionUserMessageParam.Content.ofArrayOfContentParts(kept))
                        .build()));
            }
        }
        return seen;
    }

    /**
     * Turns every message with image parts in {@code messages} into plain text, in place: its text
     * parts (which describe each image) with {@link #NOT_SHOWN} for each image.
     *
     * @return whether a message changed
     */
    static boolean withoutImages(List<ChatCompletionMessageParam> messages) {
        boolean changed = false;
        for (int i = 0; i < messages.size(); i++) {
            var message = messages.get(i);
            if (!message.isUser() || !message.asUser().content().isArrayOfContentParts()) {
                continue;
            }
            var text = new StringBuilder();
            for (var part : message.asUser().content().asArrayOfContentParts()) {
                text.append(text.isEmpty() ? "" : "\n").append(part.isText() ? part.asText().text() : NOT_SHOWN);
            }
            messages.set(i, ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content(text.toString()).build()));
            changed = true;
        }
        return changed;
    }
}
