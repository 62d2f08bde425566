package io.nomadshell.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Runs the control plane and its gateway until interrupted. */
@Command(name = "server", description = "Run the server: gRPC and REST API, job store, sandboxes (local or on Nomad).")
final class ServerCommand implements Callable<Integer> {
    @Mixin
    ServerSettings settings = new ServerSettings();

    @Option(names = "--exit-with-parent", defaultValue = "${env:NOMAD_SHELL_EXIT_WITH_PARENT:-false}",
            description = "Stop (cleanly, as on Ctrl-C) when the process that started the server ends, even by kill -9: "
                    + "for scripts, supervisors and tests (env NOMAD_SHELL_EXIT_WITH_PARENT).")
    boolean exitWithParent;

    @Override
    public Integer call() throws Exception {
        // Taken before starting, which takes seconds: a parent that dies meanwhile still stops the server.
        var parent = exitWithParent ? ParentWatch.parentNow() : null;
        var running = settings.start();
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "shutdown"));
        if (parent != null) {
            // System.exit runs the shutdown hook above: the same ordered close as Ctrl-C.
            ParentWatch.start(parent, () -> System.exit(0));
        }
        System.err.println("Nomad Shell is serving on port " + running.gateway().port() + " (sandbox previews on port "
                + running.gateway().previewPort() + "). Ctrl-C stops it.");
        stopped.await();
        return 0;
    }
}
