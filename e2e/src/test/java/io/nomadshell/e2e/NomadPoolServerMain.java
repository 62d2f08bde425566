package io.nomadshell.e2e;

import io.nomadshell.controlplane.pool.WarmPoolOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * A {@link NomadCluster} with a warm pool in a JVM of its own, for a test to kill with SIGKILL:
 * {@code NomadPoolServerMain <data dir> <model base URL> <job prefix> <Redis URL> <pool size>}. Says
 * {@code serving} once started, then runs until killed (or until its stdin closes).
 */
final class NomadPoolServerMain {
    private NomadPoolServerMain() {}

    public static void main(String[] args) throws Exception {
        var cluster = NomadCluster.start(Path.of(args[0]), args[1], args[2], UnaryOperator.identity(),
                NomadCluster.RESOURCES, options -> options.redisUrl(args[3])
                        .warmPool(new WarmPoolOptions(Integer.parseInt(args[4]), Duration.ofMinutes(10), 4L << 30)));
        System.out.println("serving on port " + cluster.port());
        System.out.flush();
        // Until killed, or until the test that started it is gone (its end of stdin closes): then stop cleanly.
        while (System.in.read() != -1) {
            // nothing is sent
        }
        cluster.close();
    }
}
