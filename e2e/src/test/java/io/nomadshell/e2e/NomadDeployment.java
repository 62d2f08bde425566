package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A deployment's own corner of the testbed's Nomad, as an operator makes it: a namespace, the policy
 * of {@code nomad-jobs/control-plane.policy.hcl} for that namespace and job prefix, and a client token
 * holding only that policy. Closing removes all three (its jobs must be purged first).
 */
record NomadDeployment(String namespace, PolicyToken policyToken) implements AutoCloseable {
    private static final String POLICY_FILE = "nomad-jobs/control-plane.policy.hcl";
    /** Where the policy file lets the control plane leave its sandboxes' credentials. */
    static final String SANDBOX_VARIABLES = "nomad/jobs/nomad-shell-sandbox-*/sandbox/sandbox";

    /** A deployment with the policy file's grants, its sandbox jobs named {@code jobPrefix}-…. */
    static NomadDeployment create(String name, String jobPrefix) throws Exception {
        var policy = Files.readString(Path.of(System.getProperty("nomadshell.projectDir", "..")).resolve(POLICY_FILE));
        assertThat(policy).as(POLICY_FILE).contains("namespace \"nomad-shell\" {", "\"" + SANDBOX_VARIABLES + "\"");
        return withRules(name, policy.replace("namespace \"nomad-shell\" {", "namespace \"" + name + "\" {")
                .replace(SANDBOX_VARIABLES, SANDBOX_VARIABLES.replace("nomad-shell-sandbox", jobPrefix)));
    }

    /** A deployment whose token holds {@code rules} (an ACL policy) in a new namespace {@code name}. */
    static NomadDeployment withRules(String name, String rules) throws Exception {
        NomadTestbed.post("/v1/namespace/" + name, NomadTestbed.JSON.createObjectNode().put("Name", name)
                .put("Description", "Nomad Shell test deployment"));
        return new NomadDeployment(name, PolicyToken.create(name, rules));
    }

    String token() {
        return policyToken.secret();
    }

    @Override
    public void close() throws Exception {
        policyToken.close();
        NomadTestbed.delete("/v1/namespace/" + namespace);
    }

    /** An ACL policy and a client token holding only it. Closing removes both. */
    record PolicyToken(String policy, String secret, String accessor) implements AutoCloseable {
        static PolicyToken create(String policy, String rules) throws Exception {
            var json = NomadTestbed.JSON;
            NomadTestbed.post("/v1/acl/policy/" + policy, json.createObjectNode().put("Name", policy).put("Rules", rules));
            var token = NomadTestbed.post("/v1/acl/token", json.createObjectNode().put("Name", policy).put("Type", "client")
                    .set("Policies", json.createArrayNode().add(policy)));
            return new PolicyToken(policy, token.path("SecretID").asText(), token.path("AccessorID").asText());
        }

        @Override
        public void close() throws Exception {
            NomadTestbed.delete("/v1/acl/token/" + accessor);
            NomadTestbed.delete("/v1/acl/policy/" + policy);
        }
    }
}
