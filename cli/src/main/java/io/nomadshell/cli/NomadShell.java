package io.nomadshell.cli;

import io.grpc.StatusRuntimeException;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ScopeType;

/**
 * {@code nomad-shell}: the one entry point. {@code main} only wires the subcommands and runs one.
 * {@code scope = INHERIT} gives every subcommand, present and future, {@code --help}, {@code -h} and
 * {@code --version}.
 */
@Command(name = "nomad-shell", scope = ScopeType.INHERIT, mixinStandardHelpOptions = true, version = "nomad-shell 0.1.0",
        description = "Run autonomous coding agents in sandboxes.",
        subcommands = {ServerCommand.class, RunCommand.class, StatusCommand.class, DownloadCommand.class,
                CancelCommand.class, LogsCommand.class, SayCommand.class, PauseCommand.class, ResumeCommand.class,
                CheckpointsCommand.class, RollbackCommand.class, ForkCommand.class, PortForwardCommand.class,
                DemoCommand.class, MockLlmCommand.class})
public final class NomadShell {
    public static void main(String[] args) {
        // Libraries that log through java.util.logging (Lucene, gRPC) go through logback, where
        // logback.xml sets their levels, rather than printing to stderr in a format of their own.
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        return new CommandLine(new NomadShell()).setExecutionExceptionHandler((e, commandLine, parsed) -> {
            commandLine.getErr().println("error: " + message(e));
            return 1;
        });
    }

    /** What the user reads: the server's words for a gRPC error, our words for our own. */
    static String message(Throwable e) {
        if (e instanceof StatusRuntimeException status) {
            var description = status.getStatus().getDescription();
            return switch (status.getStatus().getCode()) {
                case UNAVAILABLE -> "the server is not reachable (" + description + ")";
                default -> description != null ? description : status.getStatus().getCode().toString();
            };
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
