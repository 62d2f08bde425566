package io.nomadshell.cli;

import io.nomadshell.gateway.server.AttachServerOptions;
import io.nomadshell.gateway.server.AttachTls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * Where sandboxes attach: always the Unix socket under the data dir (mounted into local and Nomad
 * sandboxes on this host), and over TLS on TCP with {@code --attach-listen} for sandboxes elsewhere.
 */
final class AttachSettings {
    @Option(names = "--attach-listen", defaultValue = "${env:NOMAD_SHELL_ATTACH_LISTEN}",
            description = "HOST:PORT to serve Attach on over TLS for sandboxes on other hosts (env NOMAD_SHELL_ATTACH_LISTEN). "
                    + "Without --attach-tls-cert, a CA made at first start under <data-dir>/tls/ signs the certificate; "
                    + "daemons trust its attach-ca.pem (NOMAD_SHELL_ATTACH_CA).")
    @Nullable String listen;

    @Option(names = "--attach-tls-cert", defaultValue = "${env:NOMAD_SHELL_ATTACH_TLS_CERT}",
            description = "Your own PEM certificate (chain) for --attach-listen (env NOMAD_SHELL_ATTACH_TLS_CERT).")
    @Nullable Path tlsCert;

    @Option(names = "--attach-tls-key", defaultValue = "${env:NOMAD_SHELL_ATTACH_TLS_KEY}",
            description = "The PKCS#8 PEM private key of --attach-tls-cert (env NOMAD_SHELL_ATTACH_TLS_KEY).")
    @Nullable Path tlsKey;

    /** @param dialedAs the host sandboxes dial (--attach-address), named in a generated certificate too; null if none */
    AttachServerOptions options(Path dataDir, Path socket, @Nullable String dialedAs) throws IOException {
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new UserError("--attach-tls-cert and --attach-tls-key go together");
        }
        if (listen == null || listen.isBlank()) {
            if (tlsCert != null) {
                throw new UserError("--attach-tls-cert is for --attach-listen, which is not set");
            }
            return AttachServerOptions.socketOnly(socket);
        }
        var address = HostPorts.parse("--attach-listen", listen.strip());
        var tls = tlsCert != null && tlsKey != null ? AttachTls.operator(tlsCert, tlsKey)
                : AttachTls.generated(dataDir.resolve("tls"), dialedAs == null ? List.of(address.getHostString())
                        : List.of(address.getHostString(), dialedAs));
        return new AttachServerOptions(socket, address, tls);
    }
}
