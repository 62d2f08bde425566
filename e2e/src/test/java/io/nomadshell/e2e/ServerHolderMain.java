package io.nomadshell.e2e;

import java.nio.file.Path;

/**
 * A JVM that starts a {@link ServerProcess} and holds it, as surefire's JVM does: a test kills this
 * one with {@code kill -9} and looks at what its server left. Arguments: data dir, model base URL,
 * server log. It ends by itself once its standard input closes (its own test has gone).
 */
public final class ServerHolderMain {
    private ServerHolderMain() {}

    public static void main(String[] args) throws Exception {
        var server = ServerProcess.start(Path.of(args[0]), null, args[1], Path.of(args[2]));
        System.out.println("server pid=" + server.pid() + " port=" + server.port());
        System.out.flush();
        while (System.in.read() >= 0) {
            // held until the test closes the pipe or kills this JVM
        }
        server.close();
    }
}
