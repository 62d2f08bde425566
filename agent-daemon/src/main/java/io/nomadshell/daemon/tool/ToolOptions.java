package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * How the tools run their services.
 *
 * @param vncPort x11vnc's loopback port
 * @param desktopWebPort websockify/noVNC's loopback port
 * @param jupyterPort Jupyter Server's loopback port
 * @param screenWidth the virtual screen's width in pixels
 * @param screenHeight the virtual screen's height in pixels
 * @param python the Python that runs Jupyter Server and its kernels
 * @param scratch where services keep their runtime files (never the workspace, which is delivered)
 * @param checkpoints the checkpoint repository's git directory (outside the workspace)
 */
public record ToolOptions(int vncPort, int desktopWebPort, int jupyterPort, int screenWidth, int screenHeight,
                          String python, Path scratch, Path checkpoints) {

    public ToolOptions {
        requireNonNull(python, "python");
        requireNonNull(scratch, "scratch");
        requireNonNull(checkpoints, "checkpoints");
        if (screenWidth < 64 || screenHeight < 64) {
            throw new IllegalArgumentException("the screen must be at least 64x64, not " + screenWidth + "x" + screenHeight);
        }
    }

    /**
     * The options inside a sandbox: the well-known ports, a 1280x800 screen, Debian's Python, and the
     * checkpoints at a fixed place in the sandbox's own /tmp, so a restarted daemon finds them.
     */
    public static ToolOptions inSandbox(Path scratch) {
        return new ToolOptions(SandboxPorts.VNC, SandboxPorts.DESKTOP_WEB, SandboxPorts.JUPYTER, 1280, 800,
                "/usr/bin/python3", scratch, Path.of("/tmp/nomad-shell-checkpoints"));
    }
}
