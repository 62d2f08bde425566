package io.nomadshell.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Runs the control plane and its gateway until interrupted. */
@Command(name = "server", description = "Run the server: gRPC and REST API, job store, sandboxes (local or on Nomad).")
final class ServerCommand implements Callable<Integer> {
    @Mixin
    ServerSettings settings = new ServerSettings();

    @Override
    public Integer call() throws Exception {
        var running = settings.start();
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.close();
            stopped.countDown();
        }, "shutdown"));
        System.err.println("Nomad Shell is serving on port " + running.gateway().port() + " (sandbox previews on port "
                + running.gateway().previewPort() + "). Ctrl-C stops it.");
        stopped.await();
        return 0;
    }
}
