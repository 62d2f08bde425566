/**
 * The sandbox's desktop: a virtual X display (Xvfb) with a window manager, x11vnc and noVNC so a
 * user can watch it, started on first use and kept alive; and the {@code computer} tool that
 * looks at it (screenshots) and drives it (xdotool).
 */
@NullMarked
package io.nomadshell.daemon.tool.desktop;

import org.jspecify.annotations.NullMarked;
