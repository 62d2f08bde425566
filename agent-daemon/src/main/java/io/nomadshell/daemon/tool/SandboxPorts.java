package io.nomadshell.daemon.tool;

/**
 * The well-known loopback ports of the services a sandbox runs on demand. Inside a sandbox (its
 * own network namespace) nothing else uses them; tests on a shared host pick free ports through
 * {@link ToolOptions} instead.
 */
public final class SandboxPorts {

    /** x11vnc, serving the desktop's display over RFB. */
    public static final int VNC = 5900;
    /** websockify with noVNC: the desktop in a browser ({@code /vnc.html}), WebSocket to {@link #VNC}. */
    public static final int DESKTOP_WEB = 6080;
    /** Jupyter Server: the kernels run_code uses, and the notebook UI. */
    public static final int JUPYTER = 8888;
    /** The egress proxy (HTTP, CONNECT) that tool processes reach the outside through. */
    public static final int EGRESS_PROXY = 3128;

    private SandboxPorts() {}
}
