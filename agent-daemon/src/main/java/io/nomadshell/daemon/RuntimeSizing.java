package io.nomadshell.daemon;

import java.util.Map;

/**
 * Sizes the JDK's and gRPC's shared pools for what the daemon does (one Attach link, a few tool calls
 * at a time), not for the host's core count: set before any of them is made, each only when the
 * command line has not set it already.
 */
final class RuntimeSizing {

    private static final String NETTY = "io.grpc.netty.shaded.io.netty.";

    /** Property, value. */
    private static final Map<String, String> DEFAULTS = Map.of(
            // One event loop carries the one channel (Netty's default: twice the cores).
            NETTY + "eventLoopThreads", "1",
            // One small arena each (default: twice the cores, 4 MiB chunks); the link's traffic is light.
            NETTY + "allocator.numDirectArenas", "1",
            NETTY + "allocator.numHeapArenas", "1",
            NETTY + "allocator.maxOrder", "7",
            // Netty's buffer events would load the JDK's flight recorder classes for nothing.
            NETTY + "jfr.enabled", "false",
            // Tool calls run on virtual threads; two carriers whatever the host (default: the cores).
            "jdk.virtualThreadScheduler.parallelism", "2",
            "java.util.concurrent.ForkJoinPool.common.parallelism", "1");

    private RuntimeSizing() {}

    static void apply() {
        DEFAULTS.forEach((key, value) -> {
            if (System.getProperty(key) == null) {
                System.setProperty(key, value);
            }
        });
    }
}
