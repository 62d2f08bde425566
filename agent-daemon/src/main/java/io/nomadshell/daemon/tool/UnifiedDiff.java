package io.nomadshell.daemon.tool;

import java.util.ArrayList;
import java.util.List;

/**
 * A unified diff ({@code diff -u} style, {@value #CONTEXT} lines of context) between two versions
 * of a text. The common head and tail are cut first; what differs between them is matched line by
 * line with a longest-common-subsequence table, or, when that part is too large for the table,
 * shown as one block removed and one added.
 */
final class UnifiedDiff {

    static final int CONTEXT = 3;
    /** Above this many cells (old lines × new lines of the differing part), no table is built. */
    private static final long MAX_TABLE_CELLS = 4_000_000;

    private UnifiedDiff() {}

    private enum Kind { SAME, REMOVED, ADDED }

    private record Line(Kind kind, String text, int oldNumber, int newNumber) {}

    /** The diff of {@code before} → {@code after} for the file {@code path}; empty when they are equal. */
    static String of(String path, String before, String after) {
        List<String> a = lines(before);
        List<String> b = lines(after);
        List<Line> script = script(a, b);
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < script.size()) {
            if (script.get(i).kind() == Kind.SAME) {
                i++;
                continue;
            }
            int start = Math.max(0, i - CONTEXT);
            int end = i;
            // Extend the hunk while the next change is within 2 × CONTEXT unchanged lines.
            while (true) {
                while (end < script.size() && script.get(end).kind() != Kind.SAME) {
                    end++;
                }
                int same = 0;
                while (end + same < script.size() && script.get(end + same).kind() == Kind.SAME) {
                    same++;
                }
                if (end + same < script.size() && same <= 2 * CONTEXT) {
                    end += same;
                } else {
                    end = Math.min(script.size(), end + CONTEXT);
                    break;
                }
            }
            hunk(out, script.subList(start, end));
            i = end;
        }
        return out.isEmpty() ? "" : "--- a/" + path + "\n+++ b/" + path + "\n" + out;
    }

    private static void hunk(StringBuilder out, List<Line> lines) {
        int oldStart = 0;
        int newStart = 0;
        int oldCount = 0;
        int newCount = 0;
        for (Line line : lines) {
            if (line.kind() != Kind.ADDED) {
                oldCount++;
                if (oldStart == 0) {
                    oldStart = line.oldNumber();
                }
            }
            if (line.kind() != Kind.REMOVED) {
                newCount++;
                if (newStart == 0) {
                    newStart = line.newNumber();
                }
            }
        }
        // An empty side is numbered after the line it follows, as diff -u does.
        if (oldCount == 0) {
            oldStart = lines.getFirst().oldNumber() - 1;
        }
        if (newCount == 0) {
            newStart = lines.getFirst().newNumber() - 1;
        }
        out.append("@@ -").append(range(oldStart, oldCount)).append(" +").append(range(newStart, newCount)).append(" @@\n");
        for (Line line : lines) {
            out.append(switch (line.kind()) {
                case SAME -> ' ';
                case REMOVED -> '-';
                case ADDED -> '+';
            }).append(line.text()).append('\n');
        }
    }

    private static String range(int start, int count) {
        return count == 1 ? Integer.toString(start) : start + "," + count;
    }

    /** Every line of both versions in order, each marked; line numbers are 1-based. */
    private static List<Line> script(List<String> a, List<String> b) {
        int head = 0;
        while (head < a.size() && head < b.size() && a.get(head).equals(b.get(head))) {
            head++;
        }
        int tail = 0;
        while (tail < a.size() - head && tail < b.size() - head
                && a.get(a.size() - 1 - tail).equals(b.get(b.size() - 1 - tail))) {
            tail++;
        }
        List<Line> script = new ArrayList<>();
        for (int k = 0; k < head; k++) {
            script.add(new Line(Kind.SAME, a.get(k), k + 1, k + 1));
        }
        middle(script, a.subList(head, a.size() - tail), b.subList(head, b.size() - tail), head);
        for (int k = tail; k > 0; k--) {
            int ai = a.size() - k;
            int bi = b.size() - k;
            script.add(new Line(Kind.SAME, a.get(ai), ai + 1, bi + 1));
        }
        return script;
    }

    private static void middle(List<Line> script, List<String> a, List<String> b, int offset) {
        int n = a.size();
        int m = b.size();
        if ((long) n * m > MAX_TABLE_CELLS) {
            for (int k = 0; k < n; k++) {
                script.add(new Line(Kind.REMOVED, a.get(k), offset + k + 1, offset + 1));
            }
            for (int k = 0; k < m; k++) {
                script.add(new Line(Kind.ADDED, b.get(k), offset + n + 1, offset + k + 1));
            }
            return;
        }
        // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
        int[][] common = new int[n + 1][m + 1];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = m - 1; j >= 0; j--) {
                common[i][j] = a.get(i).equals(b.get(j))
                        ? common[i + 1][j + 1] + 1
                        : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a.get(i).equals(b.get(j))) {
                script.add(new Line(Kind.SAME, a.get(i), offset + i + 1, offset + j + 1));
                i++;
                j++;
            } else if (i < n && (j == m || common[i + 1][j] >= common[i][j + 1])) {
                // Removals first, as diff prints them.
                script.add(new Line(Kind.REMOVED, a.get(i), offset + i + 1, offset + j + 1));
                i++;
            } else {
                script.add(new Line(Kind.ADDED, b.get(j), offset + i + 1, offset + j + 1));
                j++;
            }
        }
    }

    /** The lines of {@code text}; a last line without a newline is marked as diff does. */
    private static List<String> lines(String text) {
        if (text.isEmpty()) {
            return List.of();
        }
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (lines.getLast().isEmpty()) {
            lines.removeLast();
        } else {
            lines.set(lines.size() - 1, lines.getLast() + "\n\\ No newline at end of file");
        }
        return lines;
    }
}
