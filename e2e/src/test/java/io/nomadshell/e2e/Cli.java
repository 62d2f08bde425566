package io.nomadshell.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the {@code nomad-shell} command as a user does: its own JVM, its own exit code and output. */
final class Cli {
    private Cli() {}

    record Result(int exitCode, String out, String err) {}

    /** Starts the command; its stderr goes to {@code err}. The caller ends it. */
    static Process start(Path err, String... args) throws IOException {
        return builder(args).redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Runs the command to its end (at most a minute). */
    static Result run(Path temp, String... args) throws IOException, InterruptedException {
        var out = Files.createTempFile(temp, "out", ".txt");
        var err = Files.createTempFile(temp, "err", ".txt");
        var process = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("nomad-shell " + String.join(" ", args) + " did not end within a minute");
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static ProcessBuilder builder(String... args) {
        var command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.nomadshell.cli.NomadShell"));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command);
        builder.environment().remove("NOMAD_SHELL_API_KEY");
        builder.environment().remove("NOMAD_SHELL_SERVER");
        return builder;
    }
}
