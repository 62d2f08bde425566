package io.nomadshell.controlplane.context;

/**
 * How one request's token budget is shared out. Fixed shares keep the layout predictable: however
 * long the job, the summary, the notes and each shown part have a ceiling, and what is left holds
 * the newest turns.
 *
 * @param total the most tokens a request may hold
 */
record ContextBudget(int total) {
    /** Kept free for framing the count does not see. */
    static final int SAFETY = 64;

    ContextBudget {
        if (total < ContextOptions.MIN_CONTEXT_TOKENS) {
            throw new IllegalArgumentException("the context budget must be at least " + ContextOptions.MIN_CONTEXT_TOKENS);
        }
    }

    /** The most one shown part (a message's text, a call's arguments, a tool result) takes. */
    int part() {
        return clamp(total / 16, 256, 4_000);
    }

    int summary() {
        return Math.min(8_000, total / 8);
    }

    int notes() {
        return Math.min(4_000, total / 16);
    }

    int task() {
        return Math.min(16_000, total / 8);
    }

    /** A recall answer fits in one shown part. */
    int recall() {
        return part() - 32;
    }

    private static int clamp(int value, int min, int max) {
        return Math.max(min, Math.min(max, value));
    }
}
