package io.nomadshell.daemon.tool.desktop;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.CommandRunner;
import io.nomadshell.daemon.tool.ServiceProcess;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.daemon.tool.ToolOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's desktop: Xvfb, a window manager (openbox), x11vnc and websockify serving noVNC.
 * Nothing starts until the first call to {@link #ensureReady()}, so a job that never touches the
 * GUI pays nothing. From then on a watchdog restarts any part that dies (all of them when Xvfb
 * itself dies), and {@link #ensureReady()} returns only once the display answers.
 *
 * <p>The window manager, x11vnc and websockify are optional: without them the computer tool still
 * works, only a user cannot watch.
 */
public final class Desktop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Desktop.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration WATCH_INTERVAL = Duration.ofSeconds(2);
    private static final Duration WM_WAIT = Duration.ofSeconds(10);
    private static final int WM_ATTEMPTS = 3;
    private static final Path NOVNC = Path.of("/usr/share/novnc");
    private static final String WINDOW_MANAGER = "openbox";

    private final ToolOptions options;
    private final Path logs;
    private @Nullable ServiceProcess xvfb;
    private @Nullable String display;
    private final List<ServiceProcess> companions = new ArrayList<>();
    private @Nullable Thread watchdog;
    private boolean closed;

    public Desktop(ToolOptions options) {
        this.options = requireNonNull(options, "options");
        this.logs = options.scratch().resolve("desktop");
    }

    /**
     * Starts whatever part is not running and returns the display ({@code :N}) once it answers.
     *
     * @throws ToolException if the desktop cannot run here (Xvfb missing, display not answering)
     */
    public synchronized String ensureReady() throws ToolException, InterruptedException {
        if (closed) {
            throw new ToolException("the daemon is shutting down; the desktop is stopped");
        }
        if (xvfb == null || !xvfb.alive() || display == null) {
            startDisplay();
        }
        String current = requireNonNull(display, "display");
        startMissingCompanions(current);
        if (watchdog == null) {
            watchdog = Thread.ofVirtual().name("desktop-watchdog").start(this::watch);
        }
        return current;
    }

    /** The display once the desktop has started. */
    public synchronized Optional<String> display() {
        return Optional.ofNullable(display);
    }

    /** {@code DISPLAY} for programs started from the shell, once the desktop has started. */
    public Map<String, String> environment() {
        return display().map(d -> Map.of("DISPLAY", d)).orElse(Map.of());
    }

    /**
     * Starts the desktop if needed and waits until noVNC answers on its port.
     *
     * @return the port of noVNC (websockify) on the loopback interface
     * @throws ToolException if noVNC cannot run here
     */
    public int ensureWebReady() throws ToolException, InterruptedException {
        ensureReady();
        if (ServiceProcess.find("x11vnc").isEmpty() || ServiceProcess.find("websockify").isEmpty()
                || !Files.isDirectory(NOVNC)) {
            throw new ToolException("the desktop cannot be watched here: x11vnc, websockify or noVNC is not installed");
        }
        awaitPort(options.desktopWebPort(), "noVNC");
        return options.desktopWebPort();
    }

    /** Stops every part; later calls to {@link #ensureReady()} fail. Idempotent. */
    @Override
    public void close() {
        List<ServiceProcess> all;
        Thread watcher;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(companions);
            if (xvfb != null) {
                all.add(xvfb);
            }
            companions.clear();
            xvfb = null;
            display = null;
            watcher = watchdog;
        }
        if (watcher != null) {
            watcher.interrupt();
        }
        all.forEach(ServiceProcess::stop);
    }

    private void startDisplay() throws ToolException, InterruptedException {
        companions.forEach(ServiceProcess::stop);
        companions.clear();
        if (xvfb != null) {
            xvfb.stop();
        }
        display = null;
        if (ServiceProcess.find("Xvfb").isEmpty() || ServiceProcess.find("xdotool").isEmpty()) {
            throw new ToolException("there is no desktop in this sandbox: Xvfb and xdotool are not installed");
        }
        ServiceProcess started;
        try {
            // -displayfd: the server picks a free display and prints its number when it is ready.
            started = ServiceProcess.start("Xvfb", List.of("Xvfb", "-displayfd", "1", "-screen", "0",
                    options.screenWidth() + "x" + options.screenHeight() + "x24", "-nolisten", "tcp"),
                    serviceEnvironment(), logs.resolve("xvfb.log"), true);
        } catch (IOException e) {
            throw new ToolException("cannot start Xvfb: " + e.getMessage());
        }
        xvfb = started;
        String number = firstLine(started.process(), START_TIMEOUT);
        if (number == null || !number.strip().matches("\\d+")) {
            started.stop();
            throw new ToolException("Xvfb did not start (see " + logs.resolve("xvfb.log") + ")");
        }
        String candidate = ":" + number.strip();
        awaitDisplay(candidate);
        display = candidate;
        log.info("desktop display {} is up ({}x{})", candidate, options.screenWidth(), options.screenHeight());
    }

    private void startMissingCompanions(String current) throws InterruptedException {
        companions.removeIf(p -> {
            if (!p.alive()) {
                log.warn("{} died; restarting it", p);
                return true;
            }
            return false;
        });
        List<String> running = companions.stream().map(ServiceProcess::name).toList();
        for (List<String> command : companionCommands(current)) {
            String name = command.getFirst();
            if (running.contains(name) || ServiceProcess.find(name).isEmpty()) {
                continue;
            }
            Map<String, String> env = new HashMap<>(serviceEnvironment());
            env.put("DISPLAY", current);
            // The window manager is waited for (and retried: it has been seen to miss a display
            // that had just come up), so it does not move the pointer or windows under the first action.
            int attempts = name.equals(WINDOW_MANAGER) ? WM_ATTEMPTS : 1;
            for (int attempt = 1; attempt <= attempts; attempt++) {
                ServiceProcess started;
                try {
                    started = ServiceProcess.start(name, command, env, logs.resolve(name + ".log"), false);
                } catch (IOException e) {
                    log.warn("cannot start {}: {}", name, e.getMessage());
                    break;
                }
                companions.add(started);
                if (attempts == 1 || awaitWindowManager(started, current)) {
                    break;
                }
                companions.remove(started);
            }
        }
    }

    /**
     * Waits until the window manager has announced itself on the root window; false if it died
     * first. Best effort: without xprop, or after the wait, the desktop is used as it is.
     */
    private boolean awaitWindowManager(ServiceProcess manager, String current) throws InterruptedException {
        if (ServiceProcess.find("xprop").isEmpty()) {
            return true;
        }
        long deadline = System.nanoTime() + WM_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                CommandRunner.Outcome probe = CommandRunner.run(List.of("xprop", "-root", "_NET_SUPPORTING_WM_CHECK"),
                        Map.of("DISPLAY", current), Duration.ofSeconds(5));
                if (probe.stdoutText().contains("window id")) {
                    return true;
                }
            } catch (ToolException e) {
                return true;
            }
            if (!manager.alive()) {
                log.warn("{} ended before it took the display; starting it again", manager);
                return false;
            }
            Thread.sleep(POLL);
        }
        log.warn("the window manager did not announce itself within {} s", WM_WAIT.toSeconds());
        return true;
    }

    private List<List<String>> companionCommands(String current) {
        List<List<String>> commands = new ArrayList<>();
        commands.add(List.of(WINDOW_MANAGER, "--sm-disable"));
        commands.add(List.of("x11vnc", "-display", current, "-localhost", "-rfbport",
                Integer.toString(options.vncPort()), "-forever", "-shared", "-nopw", "-quiet", "-noxdamage"));
        if (Files.isDirectory(NOVNC)) {
            commands.add(List.of("websockify", "--web", NOVNC.toString(),
                    "127.0.0.1:" + options.desktopWebPort(), "127.0.0.1:" + options.vncPort()));
        }
        return commands;
    }

    /** Services keep their files in the scratch directory, never in the delivered workspace. */
    private Map<String, String> serviceEnvironment() {
        return Map.of("HOME", logs.toString());
    }

    private void watch() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(WATCH_INTERVAL);
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    if (xvfb != null && !xvfb.alive()) {
                        log.warn("{} died; restarting the desktop", xvfb);
                    }
                }
                ensureReady();
            } catch (InterruptedException e) {
                return;
            } catch (ToolException e) {
                log.warn("the desktop watchdog could not restart it: {}", e.getMessage());
            }
        }
    }

    private void awaitDisplay(String candidate) throws ToolException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            CommandRunner.Outcome probe = CommandRunner.run(List.of("xdotool", "getdisplaygeometry"),
                    Map.of("DISPLAY", candidate), Duration.ofSeconds(5));
            if (probe.exitCode() == 0) {
                return;
            }
            last = probe.stderr();
            Thread.sleep(POLL);
        }
        throw new ToolException("the display " + candidate + " did not answer within "
                + START_TIMEOUT.toSeconds() + " s: " + last);
    }

    private void awaitPort(int port, String what) throws ToolException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                Thread.sleep(POLL);
            }
        }
        throw new ToolException(what + " did not answer on port " + port + " within " + START_TIMEOUT.toSeconds() + " s");
    }

    private static @Nullable String firstLine(Process process, Duration timeout) throws InterruptedException {
        CompletableFuture<@Nullable String> line = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                BufferedReader reader = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
                line.complete(reader.readLine());
                // Keep reading so the server never blocks on a full pipe.
                while (reader.readLine() != null) {
                    // discard
                }
            } catch (IOException e) {
                line.complete(null);
            }
        });
        try {
            return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }
}
