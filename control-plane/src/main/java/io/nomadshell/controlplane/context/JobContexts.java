package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.store.ContextStore;
import java.util.List;

/** Opens jobs' contexts: one budget and one set of tools for every job of this control plane. */
public final class JobContexts {
    private final ContextStore store;
    private final ContextBudget budget;
    private final int toolTokens;
    private final String systemPrompt;

    /**
     * @param contextTokens the most tokens one request may hold
     * @param tools the tools every request offers (their definitions take part of the budget)
     */
    public JobContexts(ContextStore store, int contextTokens, List<ChatCompletionTool> tools, String systemPrompt) {
        this.store = requireNonNull(store, "store");
        this.budget = new ContextBudget(contextTokens);
        this.toolTokens = MessageTokens.countTools(requireNonNull(tools, "tools"));
        this.systemPrompt = requireNonNull(systemPrompt, "systemPrompt");
    }

    /** The job's context, rebuilt from its transcript (empty for a new job). */
    public JobContext open(String jobId, String task, Summarizer summarizer) {
        return JobContext.open(requireNonNull(jobId, "jobId"), requireNonNull(task, "task"), systemPrompt, store,
                budget, toolTokens, requireNonNull(summarizer, "summarizer"));
    }
}
