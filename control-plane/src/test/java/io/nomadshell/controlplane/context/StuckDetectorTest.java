package io.nomadshell.controlplane.context;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Repeats are counted among the latest calls, in a row or alternating; progress resets nothing it should not. */
class StuckDetectorTest {
    @Test
    void alternatingBetweenTwoCallsIsCaughtToo() {
        var detector = new StuckDetector();
        StuckDetector.Verdict verdict = null;
        for (int i = 0; i < 9; i++) {
            verdict = i % 2 == 0 ? detector.record("exec", "{\"command\":\"make\"}", "error 1")
                    : detector.record("read_file", "{\"path\":\"a.c\"}", "int main");
        }
        assertThat(verdict).isEqualTo(new StuckDetector.Verdict.Stuck(5));
    }

    @Test
    void theSameCallWithChangingResultsIsProgress() {
        var detector = new StuckDetector();
        for (int i = 0; i < 20; i++) {
            assertThat(detector.record("exec", "{\"command\":\"make test\"}", i + " tests pass"))
                    .isEqualTo(new StuckDetector.Verdict.Fine());
        }
    }

    @Test
    void repeatsOutsideTheWindowAreForgotten() {
        var detector = new StuckDetector();
        detector.record("exec", "ls", "a");
        detector.record("exec", "ls", "a");
        for (int i = 0; i < 10; i++) {
            detector.record("exec", "echo " + i, Integer.toString(i));
        }
        assertThat(detector.record("exec", "ls", "a")).isEqualTo(new StuckDetector.Verdict.Fine());
    }
}
