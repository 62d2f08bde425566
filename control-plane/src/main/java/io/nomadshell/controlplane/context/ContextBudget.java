package io.nomadshell.controlplane.context;

/**
 * How one request's token budget is shared out, in this side's (o200k) tokens. Fixed shares keep
 * the layout predictable: however long the job, the summary, the notes and each shown part have a
 * ceiling, and what is left holds the newest turns. Small budgets (down to a thousand tokens) get
 * shares that still leave room for a turn.
 *
 * @param total the most tokens a request may hold
 */
record ContextBudget(int total) {
    ContextBudget {
        if (total <= 0) {
            throw new IllegalArgumentException("the context budget must be positive, not " + total);
        }
    }

    /** Kept free for framing the count does not see. */
    int safety() {
        return Math.min(64, total / 32);
    }

    /** The most one shown part (a message's text, a call's arguments, a tool result) takes. */
    int part() {
        // A sixteenth of large budgets; small ones get an eighth (at most 256) so a result stays readable.
        return Math.min(4_000, Math.max(total / 16, Math.min(total / 8, 256)));
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

    /** What the tool definitions may take: the tools that do not fit are not offered. */
    int tools() {
        return total / 3;
    }

    /** A recall answer fits in one shown part. */
    int recall() {
        return part() - 32;
    }
}
