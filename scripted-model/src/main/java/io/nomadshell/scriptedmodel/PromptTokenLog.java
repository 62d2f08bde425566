package io.nomadshell.scriptedmodel;

import java.util.ArrayList;
import java.util.List;

/**
 * The prompt size, in the server's own o200k_base count, of every request it answered, in order:
 * lets a test check a client's context budget against a count it did not make itself.
 */
final class PromptTokenLog {

    /** Bounds the memory of a long demo; far more requests than any test makes. */
    static final int CAPACITY = 100_000;

    private final List<Integer> counts = new ArrayList<>();

    synchronized void add(int promptTokens) {
        if (counts.size() < CAPACITY) {
            counts.add(promptTokens);
        }
    }

    synchronized List<Integer> snapshot() {
        return List.copyOf(counts);
    }
}
