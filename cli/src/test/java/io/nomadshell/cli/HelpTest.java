package io.nomadshell.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code --help} and {@code -h} on every command and subcommand print its usage and exit 0; {@code --version} too. */
class HelpTest {
    @ParameterizedTest(name = "{0}")
    @MethodSource("everyCommandWithEveryHelpFlag")
    void helpPrintsTheUsageAndExitsZero(String commandLine) {
        var args = commandLine.split(" ");
        var run = run(List.of(args).subList(1, args.length));
        var path = String.join(" ", List.of(args).subList(0, args.length - 1));
        assertThat(run.exitCode()).as("exit code; stderr: %s", run.err()).isZero();
        assertThat(run.out()).startsWith("Usage: " + path).contains("-h, --help").contains("-V, --version");
        assertThat(run.err()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyCommand")
    void versionPrintsTheVersionAndExitsZero(String path) {
        var args = new ArrayList<>(List.of(path.split(" ")).subList(1, path.split(" ").length));
        args.add("--version");
        var run = run(args);
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("nomad-shell ");
        assertThat(run.err()).isEmpty();
    }

    static Stream<String> everyCommandWithEveryHelpFlag() {
        return everyCommand().flatMap(path -> Stream.of(path + " --help", path + " -h"));
    }

    /** Every command path, found by walking the command tree: a subcommand added later is covered too. */
    static Stream<String> everyCommand() {
        var paths = new ArrayList<String>();
        walk(NomadShell.commandLine(), "nomad-shell", paths);
        assertThat(paths).contains("nomad-shell", "nomad-shell server", "nomad-shell run", "nomad-shell port-forward",
                "nomad-shell say", "nomad-shell pause", "nomad-shell resume", "nomad-shell rollback", "nomad-shell fork",
                "nomad-shell checkpoints");
        return paths.stream();
    }

    private static void walk(CommandLine command, String path, List<String> paths) {
        paths.add(path);
        command.getSubcommands().forEach((name, sub) -> {
            if (name.equals(sub.getCommandName())) { // aliases name the same command again
                walk(sub, path + " " + name, paths);
            }
        });
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run run(List<String> args) {
        var out = new StringWriter();
        var err = new StringWriter();
        var exitCode = NomadShell.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(args.toArray(String[]::new));
        return new Run(exitCode, out.toString(), err.toString());
    }
}
