package io.nomadshell.cli;

import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Where the client commands find the server, and with which key. */
final class ClientOptions {
    @Option(names = "--server", defaultValue = "${env:NOMAD_SHELL_SERVER:-localhost:8080}",
            description = "host:port of the server (env NOMAD_SHELL_SERVER; default ${DEFAULT-VALUE})")
    String server = "localhost:8080";

    @Option(names = "--api-key", defaultValue = "${env:NOMAD_SHELL_API_KEY}",
            description = "API key, if the server requires one (env NOMAD_SHELL_API_KEY)")
    @Nullable String apiKey;

    JobClient connect() {
        return new JobClient(server, apiKey);
    }
}
