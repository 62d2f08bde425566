package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.model.ModelProfile;
import io.nomadshell.controlplane.store.ContextStore;
import java.util.List;

/** Opens jobs' contexts: one budget, one model and one catalogue of tools for every job of this control plane. */
public final class JobContexts {
    private final ContextStore store;
    private final int budget;
    private final ModelProfile profile;
    private final List<ChatCompletionTool> tools;
    private final String systemPrompt;

    /**
     * @param budget the most tokens one request may hold, as the model's server counts them (see
     *     {@link ContextOptions#promptBudget})
     * @param profile how the model's tokens compare to this side's count
     * @param tools the tools a request may offer, the most needed first: those that do not fit in
     *     the budget's share are left out, from the end
     */
    public JobContexts(ContextStore store, int budget, ModelProfile profile, List<ChatCompletionTool> tools, String systemPrompt) {
        this.store = requireNonNull(store, "store");
        this.profile = requireNonNull(profile, "profile");
        this.tools = List.copyOf(requireNonNull(tools, "tools"));
        this.systemPrompt = requireNonNull(systemPrompt, "systemPrompt");
        if (budget <= 0) {
            throw new IllegalArgumentException("the prompt budget must be positive, not " + budget);
        }
        this.budget = budget;
    }

    /** The job's context, rebuilt from its transcript (empty for a new job). */
    public JobContext open(String jobId, String task, Summarizer summarizer) {
        return JobContext.open(requireNonNull(jobId, "jobId"), requireNonNull(task, "task"), systemPrompt, store,
                budget, profile, tools, requireNonNull(summarizer, "summarizer"));
    }
}
