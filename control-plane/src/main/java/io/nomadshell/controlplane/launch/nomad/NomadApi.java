package io.nomadshell.controlplane.launch.nomad;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hashicorp.nomad.apimodel.AllocationListStub;
import com.hashicorp.nomad.apimodel.Evaluation;
import com.hashicorp.nomad.apimodel.JobDispatchResponse;
import com.hashicorp.nomad.apimodel.JobListStub;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * The few calls of Nomad's HTTP API the launcher makes. Answers are read into the nomad-sdk's
 * {@code apimodel} classes with this class's own ObjectMapper (the SDK's own client does not run
 * with this project's Jackson); the job specification itself passes through as JSON, as Nomad
 * parsed it from the HCL file.
 */
final class NomadApi {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** Extra time a blocking query may take beyond the wait Nomad was asked for (it adds jitter). */
    private static final Duration BLOCKING_SLACK = Duration.ofSeconds(15);

    private final HttpClient http;
    private final NomadOptions options;

    NomadApi(NomadOptions options) {
        this.options = requireNonNull(options, "options");
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** An answer of a blocking query: the value and the index to wait on next. */
    record Indexed<T>(T value, long index) {}

    /** Nomad's leader's address; proves the agent answers and has a leader. */
    String leader() throws NomadApiException {
        return read(send("read the cluster's leader", "GET", "/v1/status/leader", Map.of(), null, REQUEST_TIMEOUT).body(),
                JSON.constructType(String.class));
    }

    /** The job in {@code hcl}, with {@code variables} (a variables file's content), as Nomad parses it. */
    ObjectNode parse(String hcl, String variables) throws NomadApiException {
        var body = JSON.createObjectNode().put("JobHCL", hcl).put("Variables", variables).put("Canonicalize", false);
        return read(send("parse jobs", "POST", "/v1/jobs/parse", Map.of(), body, REQUEST_TIMEOUT).body(),
                JSON.constructType(ObjectNode.class));
    }

    /** Registers (or updates) a job. */
    void register(ObjectNode job) throws NomadApiException {
        send("register jobs", "POST", "/v1/jobs", Map.of(), JSON.createObjectNode().set("Job", job), REQUEST_TIMEOUT);
    }

    /** Dispatches an instance of a parameterized job, with no payload: its spec is anyone's who may read jobs. */
    JobDispatchResponse dispatch(String parentId, Map<String, String> meta) throws NomadApiException {
        var body = JSON.createObjectNode();
        body.set("Meta", JSON.valueToTree(meta));
        return read(send("dispatch jobs", "POST", "/v1/job/" + parentId + "/dispatch", Map.of(), body, REQUEST_TIMEOUT).body(),
                JSON.constructType(JobDispatchResponse.class));
    }

    /** The job's allocations once they changed after {@code index}, or after {@code wait} anyway. */
    Indexed<List<AllocationListStub>> allocations(String jobId, long index, Duration wait) throws NomadApiException {
        var response = send("read jobs", "GET", "/v1/job/" + jobId + "/allocations",
                Map.of("index", Long.toString(index), "wait", wait.toMillis() + "ms"), null, wait.plus(BLOCKING_SLACK));
        List<AllocationListStub> allocations = read(response.body(),
                JSON.getTypeFactory().constructCollectionType(List.class, AllocationListStub.class));
        long next = response.headers().firstValueAsLong("X-Nomad-Index").orElse(index);
        return new Indexed<>(allocations, next);
    }

    Evaluation evaluation(String evalId) throws NomadApiException {
        return read(send("read jobs", "GET", "/v1/evaluation/" + evalId, Map.of(), null, REQUEST_TIMEOUT).body(),
                JSON.constructType(Evaluation.class));
    }

    /** Jobs whose id starts with {@code prefix}, with their meta. */
    List<JobListStub> jobs(String prefix) throws NomadApiException {
        return read(send("list jobs", "GET", "/v1/jobs", Map.of("prefix", prefix, "meta", "true"), null, REQUEST_TIMEOUT).body(),
                JSON.getTypeFactory().constructCollectionType(List.class, JobListStub.class));
    }

    /** Stops a job (its allocations are told to stop), keeping it for inspection; or purges it. */
    void stop(String jobId, boolean purge) throws NomadApiException {
        try {
            send("stop jobs", "DELETE", "/v1/job/" + jobId, purge ? Map.of("purge", "true") : Map.of(), null, REQUEST_TIMEOUT);
        } catch (NomadApiException e) {
            if (e.status() != 404) {
                throw e;
            }
        }
    }

    /** Writes (or overwrites) the Nomad variable at {@code path}. */
    void putVariable(String path, Map<String, String> items) throws NomadApiException {
        send("write variables", "PUT", "/v1/var/" + path, Map.of(), variableBody(path, items), REQUEST_TIMEOUT);
    }

    /** A Nomad variable's items and the index of its last change. */
    record Variable(Map<String, String> items, long modifyIndex) {}

    /** The variable at {@code path}, or empty when there is none. */
    Optional<Variable> variable(String path) throws NomadApiException {
        try {
            ObjectNode variable = read(send(onVariable("read", path), "GET", "/v1/var/" + path, Map.of(), null,
                    REQUEST_TIMEOUT).body(), JSON.constructType(ObjectNode.class));
            Map<String, String> items = JSON.convertValue(variable.path("Items"), new TypeReference<>() {});
            return Optional.of(new Variable(items == null ? Map.of() : items, variable.path("ModifyIndex").asLong()));
        } catch (NomadApiException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * Writes the variable at {@code path} if it was last changed at {@code modifyIndex} (0: if there is
     * none); false when another writer changed it first.
     */
    boolean putVariable(String path, Map<String, String> items, long modifyIndex) throws NomadApiException {
        return unlessConflict(() -> send(onVariable("write", path), "PUT", "/v1/var/" + path,
                Map.of("cas", Long.toString(modifyIndex)), variableBody(path, items), REQUEST_TIMEOUT));
    }

    /** Deletes the variable at {@code path} if it was last changed at {@code modifyIndex}; false when it changed. */
    boolean deleteVariable(String path, long modifyIndex) throws NomadApiException {
        return unlessConflict(() -> send(onVariable("destroy", path), "DELETE", "/v1/var/" + path,
                Map.of("cas", Long.toString(modifyIndex)), null, REQUEST_TIMEOUT));
    }

    /** The paths of the variables under {@code prefix} that the token may read. */
    List<String> variablePaths(String prefix) throws NomadApiException {
        List<ObjectNode> variables = read(send(onVariable("list", prefix + "*"), "GET", "/v1/vars",
                Map.of("prefix", prefix), null, REQUEST_TIMEOUT).body(),
                JSON.getTypeFactory().constructCollectionType(List.class, ObjectNode.class));
        return variables.stream().map(variable -> variable.path("Path").asText()).toList();
    }

    /** A refused variable call says which capability the token lacks, on which path. */
    private static String onVariable(String capability, String path) {
        return "use the variable " + path + " (variables capability \"" + capability + "\" on that path)";
    }

    private interface Call {
        void run() throws NomadApiException;
    }

    private static boolean unlessConflict(Call call) throws NomadApiException {
        try {
            call.run();
            return true;
        } catch (NomadApiException e) {
            if (e.status() == 409) {
                return false;
            }
            throw e;
        }
    }

    private static ObjectNode variableBody(String path, Map<String, String> items) {
        var body = JSON.createObjectNode().put("Path", path);
        body.set("Items", JSON.valueToTree(items));
        return body;
    }

    /** The index of the variable's last change, or empty when there is no such variable. */
    OptionalLong variableIndex(String path) throws NomadApiException {
        var variable = variable(path);
        return variable.isEmpty() ? OptionalLong.empty() : OptionalLong.of(variable.get().modifyIndex());
    }

    void deleteVariable(String path) throws NomadApiException {
        send("delete variables", "DELETE", "/v1/var/" + path, Map.of(), null, REQUEST_TIMEOUT);
    }

    /** Nomad's ACLs refused the call: say which capability the token lacks, and where. */
    private NomadApiException refused(String action, String call, String answer) {
        var namespace = options.namespace() == null ? "default" : options.namespace();
        var who = options.token() == null ? "without a token (--nomad-token, NOMAD_TOKEN), this server"
                : "the Nomad token";
        return new NomadApiException(403, who + " may not " + action + " in namespace " + namespace + ": " + call
                + " answered 403 " + answer + " (nomad-jobs/control-plane.policy.hcl grants what the server needs)");
    }

    /** Reads a captured or received answer; for tests of what the launcher makes of Nomad's JSON. */
    static <T> T read(String json, TypeReference<T> type) throws NomadApiException {
        return read(json, JSON.getTypeFactory().constructType(type));
    }

    private static <T> T read(String json, JavaType type) throws NomadApiException {
        try {
            return JSON.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new NomadApiException("Nomad answered with JSON this launcher cannot read: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * @param action what the call does, as a refusal names it ("the Nomad token may not dispatch jobs
     *     in namespace ...")
     */
    private HttpResponse<String> send(String action, String method, String path, Map<String, String> query, @Nullable Object body,
            Duration timeout) throws NomadApiException {
        var parameters = new ArrayList<String>();
        query.forEach((name, value) -> parameters.add(name + "=" + URLEncoder.encode(value, UTF_8)));
        if (options.region() != null) {
            parameters.add("region=" + URLEncoder.encode(options.region(), UTF_8));
        }
        if (options.namespace() != null) {
            parameters.add("namespace=" + URLEncoder.encode(options.namespace(), UTF_8));
        }
        var uri = URI.create(options.address().toString().replaceAll("/+$", "") + path
                + (parameters.isEmpty() ? "" : "?" + String.join("&", parameters)));
        var request = HttpRequest.newBuilder(uri).timeout(timeout);
        if (options.token() != null) {
            request.header("X-Nomad-Token", options.token());
        }
        try {
            request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            var response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(UTF_8));
            if (response.statusCode() == 403) {
                throw refused(action, method + " " + path, response.body().strip());
            }
            if (response.statusCode() / 100 != 2) {
                throw new NomadApiException(response.statusCode(), "Nomad answered " + method + " " + path + " with "
                        + response.statusCode() + ": " + response.body().strip());
            }
            return response;
        } catch (IOException e) {
            if (e instanceof NomadApiException nomad) {
                throw nomad;
            }
            throw new NomadApiException("Nomad at " + options.address() + " could not be reached: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NomadApiException("interrupted while calling Nomad", e);
        }
    }
}
