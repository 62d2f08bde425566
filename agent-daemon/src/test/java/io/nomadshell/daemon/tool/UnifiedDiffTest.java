package io.nomadshell.daemon.tool;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The unified diff matches what {@code diff -u} prints for the same change. */
class UnifiedDiffTest {

    @Test
    void equalTextsHaveNoDiff() {
        assertThat(UnifiedDiff.of("a", "x\ny\n", "x\ny\n")).isEmpty();
    }

    @Test
    void distantChangesGetTheirOwnHunks() {
        StringBuilder before = new StringBuilder();
        for (int i = 1; i <= 20; i++) {
            before.append("line ").append(i).append('\n');
        }
        String after = before.toString().replace("line 2\n", "line two\n").replace("line 18\n", "");

        assertThat(UnifiedDiff.of("f.txt", before.toString(), after)).isEqualTo("""
                --- a/f.txt
                +++ b/f.txt
                @@ -1,5 +1,5 @@
                 line 1
                -line 2
                +line two
                 line 3
                 line 4
                 line 5
                @@ -15,6 +15,5 @@
                 line 15
                 line 16
                 line 17
                -line 18
                 line 19
                 line 20
                """);
    }

    @Test
    void aNewFileIsAllAdditions() {
        assertThat(UnifiedDiff.of("n", "", "a\nb\n")).isEqualTo("--- a/n\n+++ b/n\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    }
}
