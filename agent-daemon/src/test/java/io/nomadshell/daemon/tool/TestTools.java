package io.nomadshell.daemon.tool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

/**
 * Tool options for tests on a shared host: free loopback ports, a 1280x800 screen, Debian's Python,
 * and Jupyter under {@link #JUPYTER_BASE_URL}, a path like the one a job's Jupyter gets.
 */
public final class TestTools {

    /** Not {@code /}: the tools must reach Jupyter under its base URL. */
    public static final String JUPYTER_BASE_URL = "/v1/jobs/test-job/jupyter/";

    private TestTools() {}

    public static ToolOptions options(Path scratch) {
        return options(scratch, 1280, 800);
    }

    public static ToolOptions options(Path scratch, int screenWidth, int screenHeight) {
        return new ToolOptions(freePort(), freePort(), freePort(), screenWidth, screenHeight, "/usr/bin/python3", scratch, JUPYTER_BASE_URL);
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
