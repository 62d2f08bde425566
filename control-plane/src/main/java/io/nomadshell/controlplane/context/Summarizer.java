package io.nomadshell.controlplane.context;

import com.openai.models.chat.completions.ChatCompletionMessageParam;
import java.util.List;

/** Asks the model for a summary (a plain answer, no tools); the caller counts its usage. */
@FunctionalInterface
public interface Summarizer {
    String summarize(List<ChatCompletionMessageParam> messages) throws Exception;
}
