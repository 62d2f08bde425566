package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import io.nomadshell.controlplane.model.KnownWindows;

/**
 * How jobs' prompts are budgeted and what a job may spend.
 *
 * @param contextTokens the most tokens one request may hold; 0 takes the model's default from
 *     {@link KnownWindows}
 * @param maxJobTokens prompt plus completion tokens a job may use in all; 0 for no limit
 * @param maxJobCostUsd what a job's tokens may cost, by {@code prices}; 0 for no limit
 * @param prices what each model's tokens cost
 */
public record ContextOptions(int contextTokens, long maxJobTokens, double maxJobCostUsd, PriceTable prices) {
    /** Budgets below this cannot hold the system prompt, the tools and a turn. */
    public static final int MIN_CONTEXT_TOKENS = 4_096;
    public static final ContextOptions DEFAULT = new ContextOptions(0, 0, 0, PriceTable.BUILT_IN);

    public ContextOptions {
        requireNonNull(prices, "prices");
        if (contextTokens != 0 && contextTokens < MIN_CONTEXT_TOKENS) {
            throw new IllegalArgumentException("the context budget must be at least " + MIN_CONTEXT_TOKENS + " tokens");
        }
        if (maxJobTokens < 0 || !(maxJobCostUsd >= 0)) {
            throw new IllegalArgumentException("job budgets must be zero (no limit) or more");
        }
    }

    /** The budget for requests to {@code model}. */
    public int contextTokensFor(String model) {
        return contextTokens != 0 ? contextTokens : KnownWindows.defaultBudget(model);
    }
}
