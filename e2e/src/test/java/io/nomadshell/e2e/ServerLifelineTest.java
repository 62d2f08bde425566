package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the JVM that started a server (as of surefire's, mid-suite): the server stops
 * through its clean close ({@code --exit-with-parent}), so neither it, nor its sandboxes, nor their
 * workspace mounts, nor its embedded Redis outlive their owner.
 */
class ServerLifelineTest {
    private static final Pattern HELD = Pattern.compile("server pid=(\\d+) port=(\\d+)");
    private static final Duration WAIT = Duration.ofMinutes(2);
    private ScriptedModelServer model;
    private Process holder;

    @AfterEach
    void stop() throws Exception {
        if (holder != null) {
            holder.destroyForcibly().waitFor();
        }
        if (model != null) {
            model.close();
        }
    }

    @Test
    void aServerAndItsSandboxesStopWhenTheJvmThatStartedItIsKilled(@TempDir Path tmp) throws Exception {
        var marker = "lifeline-" + UUID.randomUUID();
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("sleep-forever", tmp, marker)).build().start();
        var dataDir = tmp.resolve("data");
        var serverLog = tmp.resolve("server.log");
        var holderLog = tmp.resolve("holder.log");
        var java = ProcessHandle.current().info().command().orElseThrow();
        holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dnomadshell.cliJar=" + ServerProcess.cliJar(),
                "-Dnomadshell.daemonJar=" + TestCluster.daemonJar(),
                ServerHolderMain.class.getName(), dataDir.toString(), model.baseUrl(), serverLog.toString())
                .redirectErrorStream(true).redirectOutput(holderLog.toFile()).start();
        var held = awaitHeld(holderLog);
        var server = ProcessHandle.of(Long.parseLong(held.group(1))).orElseThrow();
        var rest = new Rest("http://127.0.0.1:" + held.group(2), null);
        var jobs = List.of(rest.schedule("Sleep, first"), rest.schedule("Sleep, second"));
        await(() -> Fixtures.processesWith(marker).size() >= 2, WAIT);
        assertThat(Leftovers.processesIn(jobs)).as("processes in the sandboxes' cgroups").isNotEmpty();

        holder.destroyForcibly().waitFor();

        await(() -> !server.isAlive() && Leftovers.processesIn(jobs).isEmpty() && Leftovers.processesOn(dataDir).isEmpty()
                && Leftovers.mountsUnder(dataDir).isEmpty() && Leftovers.cgroupsOf(jobs).isEmpty(), WAIT);
        var log = Files.readString(serverLog);
        assertThat(server.isAlive()).as("the server\n%s", log).isFalse();
        assertThat(log).as("it stopped through its close path").contains("--exit-with-parent");
        assertThat(Fixtures.processesWith(marker)).as("the sandboxes' commands").isEmpty();
        assertThat(Leftovers.processesIn(jobs)).as("processes in the sandboxes' cgroups").isEmpty();
        assertThat(Leftovers.processesOn(dataDir)).as("its embedded Redis").isEmpty();
        assertThat(Leftovers.mountsUnder(dataDir)).as("workspace mounts").isEmpty();
        assertThat(Leftovers.cgroupsOf(jobs)).as("sandbox cgroups").isEmpty();
    }

    private java.util.regex.Matcher awaitHeld(Path holderLog) throws Exception {
        var deadline = Instant.now().plus(WAIT);
        while (Instant.now().isBefore(deadline) && holder.isAlive()) {
            var matcher = HELD.matcher(Files.readString(holderLog));
            if (matcher.find()) {
                return matcher;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the holder did not start its server:\n" + Files.readString(holderLog));
    }

    static void await(java.util.function.BooleanSupplier condition, Duration within) throws InterruptedException {
        var deadline = Instant.now().plus(within);
        while (!condition.getAsBoolean() && Instant.now().isBefore(deadline)) {
            Thread.sleep(200);
        }
    }
}
