package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sandbox-image/build.sh} and {@code ./nomad-shell} find a JDK new enough for the agent daemon
 * the same way (scripts/find-jdk.sh), and refuse, in words and before building anything, on a machine
 * whose only JDK is too old: a stock Debian 12 with OpenJDK 17, made here by mounting a fake JDK 17
 * over /usr/lib/jvm in a mount namespace of the script's own.
 */
class JdkCheckTest {
    private static final Path PROJECT = Path.of(System.getProperty("nomadshell.projectDir")).toAbsolutePath().normalize();

    @Test
    void onAMachineWithOnlyJdk17BothRefuseBeforeBuildingAnything(@TempDir Path tmp) throws Exception {
        var stock = stockDebian(tmp);

        var image = run(tmp, stock.inNamespace(PROJECT.resolve("sandbox-image/build.sh").toString()));
        assertThat(image.exitCode()).as("build.sh's exit code; output: %s", image.output()).isNotZero();
        assertThat(image.output())
                .contains("No JDK " + daemonRelease() + " or newer was found")
                .contains("/usr/lib/jvm/java-17-openjdk-amd64 (17)")
                .contains("refusing to build");
        assertThat(stock.dockerCalls()).as("docker was never called").doesNotExist();

        var launcher = run(tmp, stock.inNamespace(PROJECT.resolve("nomad-shell").toString(), "--version"));
        assertThat(launcher.exitCode()).as("nomad-shell's exit code; output: %s", launcher.output()).isNotZero();
        assertThat(launcher.output()).contains("No JDK " + daemonRelease() + " or newer was found").doesNotContain("building");
        Files.delete(stock.bin().resolve("java")); // a link out of the temporary directory, which JUnit would warn of
    }

    @Test
    void anOldJavaHomeIsPassedOverForANewEnoughJdk(@TempDir Path tmp) throws Exception {
        var old = fakeJdk(tmp.resolve("jdk-17"));
        var found = run(tmp, List.of("env", "JAVA_HOME=" + old, PROJECT.resolve("sandbox-image/build.sh").toString(), "--check-jdk"));
        assertThat(found.exitCode()).as("output: %s", found.output()).isZero();
        var home = Path.of(found.output().strip());
        var version = run(tmp, List.of(home.resolve("bin/java").toString(), "-XshowSettings:properties", "-version"));
        var major = Pattern.compile("java\\.specification\\.version = (\\d+)").matcher(version.output());
        assertThat(major.find()).as("the version of %s: %s", home, version.output()).isTrue();
        assertThat(Integer.parseInt(major.group(1))).isGreaterThanOrEqualTo(daemonRelease());
    }

    /** The machine as a stock Debian 12 shows it: /usr/lib/jvm holding only OpenJDK 17, whose java is on PATH. */
    private record StockDebian(Path jvm, Path bin) {
        List<String> inNamespace(String... command) {
            var script = "mount --bind \"$1\" /usr/lib/jvm && shift && exec env -u JAVA_HOME PATH=\"$0:/usr/bin:/bin\" \"$@\"";
            var args = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "bash", "-c", script,
                    bin.toString(), jvm.toString()));
            args.addAll(List.of(command));
            return args;
        }

        Path dockerCalls() {
            return bin.resolveSibling("docker-calls");
        }
    }

    private static StockDebian stockDebian(Path tmp) throws IOException {
        var jvm = tmp.resolve("jvm");
        fakeJdk(jvm.resolve("java-17-openjdk-amd64"));
        var bin = Files.createDirectories(tmp.resolve("bin"));
        // As Debian's alternatives link it: inside the namespace, this is the fake.
        Files.createSymbolicLink(bin.resolve("java"), Path.of("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"));
        executable(bin.resolve("docker"), "#!/bin/sh\necho \"$@\" >> " + tmp.resolve("docker-calls") + "\n");
        return new StockDebian(jvm, bin);
    }

    /** A JDK 17 as far as a script can tell: java, javac and jlink, and java says it is 17. */
    private static Path fakeJdk(Path home) throws IOException {
        var bin = Files.createDirectories(home.resolve("bin"));
        executable(bin.resolve("java"), """
                #!/bin/sh
                echo '    java.specification.version = 17' >&2
                echo 'openjdk version "17.0.15" 2025-04-15' >&2
                """);
        executable(bin.resolve("javac"), "#!/bin/sh\necho 'javac 17.0.15'\n");
        executable(bin.resolve("jlink"), "#!/bin/sh\necho '17.0.15'\n");
        return home;
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The daemon's Java release, where the scripts read it: agent-daemon/pom.xml. */
    private static int daemonRelease() throws IOException {
        var matcher = Pattern.compile("<maven.compiler.release>(\\d+)</maven.compiler.release>")
                .matcher(Files.readString(PROJECT.resolve("agent-daemon/pom.xml")));
        assertThat(matcher.find()).isTrue();
        return Integer.parseInt(matcher.group(1));
    }

    private record Run(int exitCode, String output) {}

    private static Run run(Path tmp, List<String> command) throws IOException, InterruptedException {
        var output = Files.createTempFile(tmp, "output", ".txt");
        var process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError(String.join(" ", command) + " did not end within a minute:\n" + Files.readString(output));
        }
        return new Run(process.exitValue(), Files.readString(output));
    }
}
