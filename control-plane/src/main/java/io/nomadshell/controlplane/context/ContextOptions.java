package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

/**
 * How jobs' prompts are budgeted and what a job may spend.
 *
 * @param contextTokens the model's context window in tokens, overriding what the server says (or
 *     the table of known models); 0 to take the server's. Prompts get the window less room for the
 *     answer ({@link #promptBudget})
 * @param maxJobTokens prompt plus completion tokens a job may use in all; 0 for no limit
 * @param maxJobCostUsd what a job's tokens may cost, by {@code prices}; 0 for no limit
 * @param prices what each model's tokens cost
 */
public record ContextOptions(int contextTokens, long maxJobTokens, double maxJobCostUsd, PriceTable prices) {
    /** Windows below this cannot hold the system prompt, the essential tools and a turn. */
    public static final int MIN_CONTEXT_TOKENS = 1_024;
    public static final ContextOptions DEFAULT = new ContextOptions(0, 0, 0, PriceTable.BUILT_IN);

    public ContextOptions {
        requireNonNull(prices, "prices");
        if (contextTokens != 0 && contextTokens < MIN_CONTEXT_TOKENS) {
            throw new IllegalArgumentException("the context window must be at least " + MIN_CONTEXT_TOKENS + " tokens");
        }
        if (maxJobTokens < 0 || !(maxJobCostUsd >= 0)) {
            throw new IllegalArgumentException("job budgets must be zero (no limit) or more");
        }
    }

    /**
     * The most tokens (the server's) one prompt may hold in a window of {@code window}: the rest is
     * room for the answer, the output cap but at most a quarter of the window.
     */
    public static int promptBudget(int window, int maxOutputTokens) {
        if (window <= 0 || maxOutputTokens <= 0) {
            throw new IllegalArgumentException("the window and the output cap must be positive");
        }
        return window - Math.min(maxOutputTokens, window / 4);
    }
}
