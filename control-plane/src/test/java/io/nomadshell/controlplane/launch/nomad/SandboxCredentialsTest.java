package io.nomadshell.controlplane.launch.nomad;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shared variable of sandboxes' launch credentials, against the real Nomad agent of the testbed
 * ({@code testbed/nomad-testbed.sh start}; {@code NOMAD_ADDR}, and the management token from
 * {@code NOMAD_TOKEN} or the testbed's directory): skipped where no agent answers, except in CI.
 */
class SandboxCredentialsTest {
    private final String prefix = "nstest-" + UUID.randomUUID().toString().substring(0, 8);
    private final String parent = prefix + "-c500-m512-d256";
    private NomadApi api;
    private SandboxCredentials credentials;

    @BeforeEach
    void connect() throws Exception {
        var address = URI.create(System.getenv().getOrDefault("NOMAD_ADDR", "http://127.0.0.1:4646"));
        if (!answers(address)) {
            var message = "no Nomad agent at " + address + " (start it with testbed/nomad-testbed.sh start)";
            // CI starts the testbed: there a missing agent is a failure, never a skip.
            Assertions.assertNotEquals("true", System.getenv("CI"), message);
            Assumptions.abort(message);
        }
        api = new NomadApi(NomadOptions.builder().address(address).token(managementToken())
                .attachSocket(Path.of("/unused/attach.sock")).jobPrefix(prefix).build());
        credentials = new SandboxCredentials(api, prefix);
    }

    @AfterEach
    void clean() throws Exception {
        if (api != null && api.variable(SandboxCredentials.path(parent)).isPresent()) {
            api.deleteVariable(SandboxCredentials.path(parent));
        }
    }

    @Test
    void sandboxesStartingTogetherEachKeepTheirOwnCredentialAndTheLastRemovalTakesTheVariable() throws Exception {
        var ids = new ArrayList<String>();
        for (int i = 0; i < 12; i++) {
            ids.add("j" + i);
        }
        inParallel(ids, id -> () -> {
            credentials.put(parent, id, "credential-of-" + id);
            return null;
        });
        assertThat(items()).as("every writer's item, none lost to another's write").hasSize(12)
                .containsEntry("j7", "credential-of-j7");

        // A newer credential of the same sandbox id is not removed on behalf of the older one.
        credentials.put(parent, "j0", "newer-credential-of-j0");
        credentials.remove(parent, "j0", "credential-of-j0");
        assertThat(items()).containsEntry("j0", "newer-credential-of-j0");

        inParallel(ids, id -> () -> {
            credentials.remover(parent, id, null).run();
            return null;
        });
        assertThat(api.variable(SandboxCredentials.path(parent))).as("the variable, once empty").isEmpty();
    }

    @Test
    void theJanitorRemovesOnlyCredentialsOfSandboxesNotRunningForLongerThanTheGrace() throws Exception {
        credentials.put(parent, "jrunning", "a");
        credentials.put(parent, "jorphan", "b");
        credentials.put(parent, "jdispatching", "c");

        credentials.sweep(Set.of("jrunning"), Duration.ofHours(1));
        assertThat(items()).as("within the grace").containsOnlyKeys("jrunning", "jorphan", "jdispatching");

        credentials.sweep(Set.of("jrunning", "jdispatching"), Duration.ZERO);
        assertThat(items()).containsOnlyKeys("jrunning", "jdispatching");
    }

    private Map<String, String> items() throws NomadApiException {
        return api.variable(SandboxCredentials.path(parent)).orElseThrow().items();
    }

    private interface Task {
        Callable<@Nullable Void> of(String id);
    }

    private static void inParallel(Iterable<String> ids, Task task) throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new ArrayList<java.util.concurrent.Future<@Nullable Void>>();
            for (var id : ids) {
                futures.add(pool.submit(task.of(id)));
            }
            for (var future : futures) {
                future.get();
            }
        }
    }

    private static boolean answers(URI address) {
        try (var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()) {
            return http.send(HttpRequest.newBuilder(address.resolve("/v1/status/leader")).timeout(Duration.ofSeconds(5))
                    .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static @Nullable String managementToken() throws IOException {
        var token = System.getenv("NOMAD_TOKEN");
        if (token != null && !token.isBlank()) {
            return token.strip();
        }
        var file = Path.of(System.getenv().getOrDefault("NOMAD_SHELL_TESTBED_DIR", "/var/lib/nomad-shell-testbed"),
                "nomad-management.token");
        return Files.isReadable(file) ? Files.readString(file).strip() : null;
    }
}
