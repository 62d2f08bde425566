package io.nomadshell.daemon.tool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * Tool options for tests on a shared host: free loopback ports, a 1280x800 screen and Debian's
 * Python; and the token tests give Jupyter, as a control plane's Welcome would.
 */
public final class TestTools {

    public static final String JUPYTER_TOKEN = "test-jupyter-token-0123456789abcdef";

    private TestTools() {}

    public static ToolOptions options(Path scratch) {
        return options(scratch, 1280, 800);
    }

    public static ToolOptions options(Path scratch, int screenWidth, int screenHeight) {
        return new ToolOptions(freePort(), freePort(), freePort(), screenWidth, screenHeight, "/usr/bin/python3", scratch,
                scratch.resolve("checkpoints"));
    }

    /** A loopback port free right now (another process could still take it; unlikely in a test). */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
