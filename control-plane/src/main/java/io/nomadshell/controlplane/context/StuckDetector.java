package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Notices a model going round in circles: the same call (tool and arguments) getting the same
 * result again and again among its latest calls, whether in a row or alternating with others.
 */
final class StuckDetector {
    /** Repeats after which the model is told. */
    static final int WARN_AT = 3;
    /** Repeats after which the job ends. */
    static final int FAIL_AT = 5;
    private static final int WINDOW = 2 * FAIL_AT;

    private final Deque<String> recent = new ArrayDeque<>();

    /** What one more call means. */
    sealed interface Verdict {
        record Fine() implements Verdict {}

        /** Seen {@code times} times: tell the model. */
        record Repeating(int times) implements Verdict {}

        /** Seen {@link #FAIL_AT} times despite the warnings: end the job. */
        record Stuck(int times) implements Verdict {}
    }

    Verdict record(String tool, String arguments, String result) {
        requireNonNull(tool, "tool");
        var signature = tool + '\u0000' + arguments + '\u0000' + result;
        recent.addLast(signature);
        if (recent.size() > WINDOW) {
            recent.removeFirst();
        }
        int times = (int) recent.stream().filter(signature::equals).count();
        if (times >= FAIL_AT) {
            return new Verdict.Stuck(times);
        }
        return times >= WARN_AT ? new Verdict.Repeating(times) : new Verdict.Fine();
    }
}
