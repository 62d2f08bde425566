package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A deployment's own corner of the testbed's Nomad, as an operator makes it: a namespace, the policy
 * of {@code nomad-jobs/control-plane.policy.hcl} for that namespace, and a client token holding only
 * that policy. Closing removes all three (its jobs must be purged first).
 */
record NomadDeployment(String namespace, String token, String tokenAccessor) implements AutoCloseable {
    private static final String POLICY_FILE = "nomad-jobs/control-plane.policy.hcl";

    static NomadDeployment create(String name) throws Exception {
        var json = NomadTestbed.JSON;
        NomadTestbed.post("/v1/namespace/" + name, json.createObjectNode().put("Name", name)
                .put("Description", "Nomad Shell test deployment"));
        var policy = Files.readString(Path.of(System.getProperty("nomadshell.projectDir", "..")).resolve(POLICY_FILE));
        assertThat(policy).as(POLICY_FILE).contains("namespace \"nomad-shell\" {");
        NomadTestbed.post("/v1/acl/policy/" + name, json.createObjectNode().put("Name", name)
                .put("Rules", policy.replace("namespace \"nomad-shell\" {", "namespace \"" + name + "\" {")));
        var token = NomadTestbed.post("/v1/acl/token", json.createObjectNode().put("Name", name).put("Type", "client")
                .set("Policies", json.createArrayNode().add(name)));
        return new NomadDeployment(name, token.path("SecretID").asText(), token.path("AccessorID").asText());
    }

    @Override
    public void close() throws Exception {
        NomadTestbed.delete("/v1/acl/token/" + tokenAccessor);
        NomadTestbed.delete("/v1/acl/policy/" + namespace);
        NomadTestbed.delete("/v1/namespace/" + namespace);
    }
}
