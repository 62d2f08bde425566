package io.nomadshell.daemon;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The daemon's logging: an SLF4J provider that writes one short line per event to stderr, with the
 * daemon's other diagnostics ({@code HH:mm:ss.SSS LEVEL Logger - message}, then the stack trace if
 * any). INFO and up; gRPC's (Netty's) loggers WARN and up, and Netty's bootstrap ERROR only. A logging
 * library (logback: some 150 classes) would be that much more metadata in every sandbox's daemon.
 *
 * <p>Chosen with {@code -Dslf4j.provider} in the daemon's JVM options, not as a service, so a process
 * that embeds the daemon (a test) keeps its own logging.
 */
public final class DaemonLogging implements SLF4JServiceProvider, ILoggerFactory {

    private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
    private final IMarkerFactory markers = new BasicMarkerFactory();
    private final MDCAdapter mdc = new NOPMDCAdapter();

    @Override
    public Logger getLogger(String name) {
        return loggers.computeIfAbsent(name, n -> new DaemonLogger(n, threshold(n)));
    }

    /** The least level a logger writes. */
    static Level threshold(String name) {
        // gRPC sets SO_KEEPALIVE on every channel; on a Unix socket Netty warns about it at each dial.
        if (name.startsWith("io.grpc.netty.shaded.io.netty.bootstrap")) {
            return Level.ERROR;
        }
        return name.startsWith("io.grpc") ? Level.WARN : Level.INFO;
    }

    @Override
    public ILoggerFactory getLoggerFactory() {
        return this;
    }

    @Override
    public IMarkerFactory getMarkerFactory() {
        return markers;
    }

    @Override
    public MDCAdapter getMDCAdapter() {
        return mdc;
    }

    @Override
    public String getRequestedApiVersion() {
        return "2.0.99";
    }

    @Override
    public void initialize() {}
}
