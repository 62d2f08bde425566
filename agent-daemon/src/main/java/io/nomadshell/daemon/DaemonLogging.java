package io.nomadshell.daemon;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * The daemon's logging, set up in code (found by logback as a service): logs go to stderr with the
 * daemon's other diagnostics, one short line each. No logback.xml, because parsing one loads an XML
 * parser and some 600 classes into every sandbox. A process with a logback configuration file of its
 * own (a test, a program embedding the daemon) keeps that one.
 */
public final class DaemonLogging extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ClassLoader loader = DaemonLogging.class.getClassLoader();
        if (System.getProperty("logback.configurationFile") != null
                || loader.getResource("logback-test.xml") != null || loader.getResource("logback.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        var encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{0} - %msg%n");
        encoder.start();
        var stderr = new ConsoleAppender<ILoggingEvent>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        var root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(stderr);
        context.getLogger("io.grpc").setLevel(Level.WARN);
        // gRPC sets SO_KEEPALIVE on every channel; on a Unix socket Netty warns about it at each dial.
        context.getLogger("io.grpc.netty.shaded.io.netty.bootstrap").setLevel(Level.ERROR);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
