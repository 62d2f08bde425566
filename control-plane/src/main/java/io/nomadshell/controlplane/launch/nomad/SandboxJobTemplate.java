package io.nomadshell.controlplane.launch.nomad;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sandbox's parent job, from {@code nomad-jobs/sandbox.nomad.hcl} (on the classpath): Nomad
 * itself parses the file with the profile's values for its variables, so the file is the only
 * definition of the job.
 */
final class SandboxJobTemplate {
    static final String RESOURCE = "/nomad-jobs/sandbox.nomad.hcl";

    private final String hcl;

    private SandboxJobTemplate(String hcl) {
        this.hcl = hcl;
    }

    /** The job file shipped in this jar. */
    static SandboxJobTemplate load() {
        try (InputStream in = SandboxJobTemplate.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath");
            }
            return new SandboxJobTemplate(new String(in.readAllBytes(), UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The parent job for {@code profile}, parsed by Nomad, with its id and the options' region and namespace. */
    ObjectNode parentJob(NomadApi api, NomadOptions options, SandboxProfile profile) throws NomadApiException {
        requireNonNull(api, "api");
        requireNonNull(options, "options");
        requireNonNull(profile, "profile");
        var job = api.parse(hcl, variables(options, profile));
        var id = profile.parentJobId(options.jobPrefix());
        job.put("ID", id).put("Name", id);
        if (options.region() != null) {
            job.put("Region", options.region());
        }
        if (options.namespace() != null) {
            job.put("Namespace", options.namespace());
        }
        return job;
    }

    /** The file's variables for this profile, as a variables file says them. */
    static String variables(NomadOptions options, SandboxProfile profile) {
        var values = new LinkedHashMap<String, Object>();
        values.put("image", options.image());
        values.put("runtime", options.runtime());
        values.put("cpu", profile.cpuMhz());
        values.put("memory", profile.memoryMb());
        values.put("disk", profile.diskMb());
        // No network: the daemon dials the mounted Attach socket, and egress rides on Attach. Only a
        // daemon told to dial a TCP address needs an interface: Nomad's bridge network, whose firewall on
        // the node (scripts/sandbox-firewall.sh) lets it reach that address and nothing else.
        values.put("network_mode", options.attachSocketDirectory() == null ? "bridge" : "none");
        // This replica's address first, then its peers': the daemon redials the next when a stream breaks.
        values.put("attach", options.attachTargets());
        values.put("attach_socket_dir",
                options.attachSocketDirectory() == null ? "" : options.attachSocketDirectory().toString());
        values.put("attach_ca", options.attachCa());
        var text = new StringBuilder();
        for (Map.Entry<String, Object> entry : values.entrySet()) {
            text.append(entry.getKey()).append(" = ").append(literal(entry.getValue())).append('\n');
        }
        return text.toString();
    }

    private static String literal(Object value) {
        if (value instanceof Integer number) {
            return number.toString();
        }
        var escaped = value.toString().replace("\\", "\\\\").replace("\"", "\\\"").replace("${", "$${")
                .replace("%{", "%%{").replace("\n", "\\n");
        return "\"" + escaped + "\"";
    }
}
