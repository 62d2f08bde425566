package io.nomadshell.daemon.tool;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.code.JupyterServer;
import io.nomadshell.daemon.tool.desktop.Desktop;
import io.nomadshell.proto.v1.EnsureServiceAction;
import io.nomadshell.proto.v1.EnsureServiceResult;

/**
 * {@code ensure_service}: brings up a service a user can open before they open it, and says on
 * which loopback port of the sandbox it answers over HTTP.
 */
final class ServiceStarter {

    private final Desktop desktop;
    private final JupyterServer jupyter;

    ServiceStarter(Desktop desktop, JupyterServer jupyter) {
        this.desktop = requireNonNull(desktop, "desktop");
        this.jupyter = requireNonNull(jupyter, "jupyter");
    }

    EnsureServiceResult ensure(EnsureServiceAction action) throws ToolException, InterruptedException {
        int port = switch (action.getService()) {
            case "desktop" -> desktop.ensureWebReady();
            case "jupyter" -> {
                jupyter.ensureReady();
                yield jupyter.port();
            }
            default -> throw new ToolException("unknown service '" + action.getService() + "'; the services are desktop and jupyter");
        };
        return EnsureServiceResult.newBuilder().setService(action.getService()).setPort(port).build();
    }
}
