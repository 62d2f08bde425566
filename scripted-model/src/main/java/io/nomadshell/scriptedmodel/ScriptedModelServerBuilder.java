package io.nomadshell.scriptedmodel;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/** Builds a {@link ScriptedModelServer}; only the scenario is required. */
public final class ScriptedModelServerBuilder {

    private @Nullable Scenario scenario;
    private String host = "127.0.0.1";
    private int port;
    private @Nullable String apiKey;

    ScriptedModelServerBuilder() {
    }

    /** The scenario to play back. Required. */
    public ScriptedModelServerBuilder scenario(Scenario scenario) {
        this.scenario = requireNonNull(scenario, "scenario");
        return this;
    }

    /** The address to bind; {@code 127.0.0.1} unless set, so nothing off the machine can reach it. */
    public ScriptedModelServerBuilder host(String host) {
        requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host is blank");
        }
        this.host = host;
        return this;
    }

    /** The port to bind; 0 (the default) picks a free one, see {@link ScriptedModelServer#port()}. */
    public ScriptedModelServerBuilder port(int port) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be 0 to 65535, not " + port);
        }
        this.port = port;
        return this;
    }

    /** The key requests must present as {@code Authorization: Bearer <key>}; none is required unless set. */
    public ScriptedModelServerBuilder apiKey(String apiKey) {
        requireNonNull(apiKey, "apiKey");
        if (apiKey.isEmpty()) {
            throw new IllegalArgumentException("apiKey is empty");
        }
        this.apiKey = apiKey;
        return this;
    }

    /**
     * A server that is not yet listening; call {@link ScriptedModelServer#start()}.
     *
     * @throws IllegalStateException if no scenario was set
     */
    public ScriptedModelServer build() {
        if (scenario == null) {
            throw new IllegalStateException("a scenario is required");
        }
        return new ScriptedModelServer(scenario, host, port, apiKey);
    }
}
