package io.nomadshell.e2e;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Python virtual environment with a requirements file installed, made once with Debian's python3
 * (testbed/setup.sh installs it with python3-venv) and cached outside the repository under a name
 * that holds the hash of the requirements and the Python version: later runs reuse it, a change to
 * either makes a new one. Built beside its final place and moved there whole, so a run that stops
 * halfway leaves nothing a later run would trust.
 */
final class PythonVenv {
    private static final String PYTHON = "/usr/bin/python3";
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

    private final Path home;

    private PythonVenv(Path home) {
        this.home = home;
    }

    static PythonVenv cached(String name, Path requirements) throws IOException, InterruptedException {
        var version = run(List.of(PYTHON, "--version"), Map.of(), null, Duration.ofSeconds(30)).trim();
        var home = LlamaServer.CACHE.resolve(name + "-" + hash(version + "\n" + Files.readString(requirements)));
        if (!Files.isExecutable(home.resolve("bin/python"))) {
            Files.createDirectories(home.getParent());
            var building = Files.createTempDirectory(home.getParent(), name + "-building-");
            try {
                run(List.of(PYTHON, "-m", "venv", building.toString()), Map.of(), null, INSTALL_TIMEOUT);
                run(List.of(building.resolve("bin/python").toString(), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "-r", requirements.toString()), Map.of(), null, INSTALL_TIMEOUT);
                Files.move(building, home, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileSystemException raced) {
                if (!Files.isExecutable(home.resolve("bin/python"))) {
                    throw raced;
                } // else another run made the same one meanwhile: use it
            } finally {
                deleteTree(building);
            }
        }
        return new PythonVenv(home);
    }

    /** Runs {@code python args...} in {@code dir}; its output, or an exception holding it when it fails. */
    String python(List<String> args, Map<String, String> env, Path dir, Duration timeout)
            throws IOException, InterruptedException {
        var command = new ArrayList<>(List.of(home.resolve("bin/python").toString()));
        command.addAll(args);
        return run(command, env, dir, timeout);
    }

    private static String run(List<String> command, Map<String, String> env, Path dir, Duration timeout)
            throws IOException, InterruptedException {
        var output = Files.createTempFile("python-", ".log");
        try {
            var builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
            builder.environment().putAll(env);
            if (dir != null) {
                builder.directory(dir.toFile());
            }
            var process = builder.start();
            boolean ended = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!ended) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor();
            }
            var text = Files.readString(output, UTF_8);
            if (!ended || process.exitValue() != 0) {
                throw new PythonFailed(String.join(" ", command)
                        + (ended ? " exited with " + process.exitValue() : " ran past " + timeout) + ":\n" + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static String hash(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(UTF_8)), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (var path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** A Python command that failed, with what it printed. */
    static final class PythonFailed extends IllegalStateException {
        PythonFailed(String message) {
            super(message);
        }
    }
}
