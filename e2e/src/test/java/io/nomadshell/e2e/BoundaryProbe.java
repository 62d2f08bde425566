package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.nomadshell.controlplane.ControlPlane;
import io.nomadshell.controlplane.session.JobTokens;
import io.nomadshell.controlplane.store.RedisConnection;
import io.nomadshell.controlplane.store.SharedSecrets;
import io.nomadshell.proto.v1.ControlMessage;
import io.nomadshell.proto.v1.DaemonMessage;
import io.nomadshell.proto.v1.Hello;
import io.nomadshell.proto.v1.SandboxServiceGrpc;
import io.nomadshell.scriptedmodel.Scenario;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An attack on the boundary from inside a sandbox, through the model's own exec tool: over the
 * mounted Attach socket it tries the public API (REST, gRPC, reflection, metrics, docs, UI); it looks
 * for the daemon's credential in {@code env}, every {@code /proc/<pid>/environ}, the daemon's memory
 * (ptrace, and the JVM's attach mechanism that jcmd uses), the credential file, and (in a Nomad sandbox) the
 * variable its task renders it from, through Nomad's task API socket. The same scenario runs in local and Nomad sandboxes; from
 * outside, the test replays the launch credential on the host's Attach socket while the stream is live.
 */
final class BoundaryProbe {
    /** Probes the socket's routes; one line per route, also kept in probe-socket.txt. */
    static final String SOCKET_PROBE = """
            sleep 2  # the test replays the launch credential meanwhile: let it find a live stream
            S=$(ls /run/nomad-shell/*.sock 2>/dev/null | head -n1)
            [ -S "$S" ] || { echo "no Attach socket in /run/nomad-shell"; exit 1; }
            probe() {
              name=$1; shift
              code=$(curl -s -m 10 -o /tmp/probe-body -D /tmp/probe-head -w '%{http_code}' --unix-socket "$S" "$@")
              st=$(tr -d '\\r' < /tmp/probe-head | grep -i '^grpc-status' | head -n1)
              echo "$name: http=$code $st body=$(head -c 160 /tmp/probe-body | tr -c '[:print:]' '.')"
            }
            G="--http2-prior-knowledge -H content-type:application/grpc -H te:trailers --data-binary @/dev/null"
            {
            probe rest-list-jobs http://sandbox/v1/jobs
            probe rest-schedule -H 'content-type: application/json' -d '{"task":"escape"}' http://sandbox/schedule
            probe rest-status http://sandbox/status/jaaaaaaaaaaaaaaaaaaaa
            probe metrics http://sandbox/metrics
            probe docs http://sandbox/docs/
            probe ui http://sandbox/
            probe health http://sandbox/internal/healthcheck
            probe grpc-list-jobs $G http://sandbox/nomadshell.v1.JobService/ListJobs
            probe grpc-reflection $G http://sandbox/grpc.reflection.v1.ServerReflection/ServerReflectionInfo
            probe grpc-attach-without-credential $G http://sandbox/nomadshell.v1.SandboxService/Attach
            } 2>&1 | tee probe-socket.txt
            """;

    /** Looks for the credential; the dumps go to probe-env.txt and probe-environ.txt, the verdicts to probe-daemon.txt. */
    static final String CREDENTIAL_PROBE = """
            env | sort > probe-env.txt
            for f in /proc/[0-9]*/environ; do echo "== $f"; tr '\\0' '\\n' < "$f"; echo; done > probe-environ.txt 2>&1
            J=agent-daemon
            {
            for p in /proc/[0-9]*; do
              # The daemon's JVM (bubblewrap's own processes carry the same command line in their argv).
              if [ "$(cat "$p/comm" 2>/dev/null)" = java ] \\
                  && tr '\\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q -- "-jar .*$J[.]jar"; then
                pid=${p#/proc/}
                echo "daemon pid=$pid"
                echo "mem: $(head -c 64 "$p/mem" 2>&1 >/dev/null | head -n1)"
                echo "environ: $(head -c 64 "$p/environ" 2>&1 >/dev/null | head -n1)"
                python3 -c 'import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            pid = int(sys.argv[1])
            if libc.ptrace(16, pid, None, None) == 0:
                libc.ptrace(17, pid, None, None)
                print("ptrace: ATTACHED")
            else:
                print("ptrace: refused: " + os.strerror(ctypes.get_errno()))' "$pid"
                # HotSpot's attach mechanism (what jcmd uses): ask for it, and see if the socket appears.
                python3 -c 'import os, signal, sys, time
            pid = int(sys.argv[1])
            open("/tmp/.attach_pid%d" % pid, "w").close()
            os.kill(pid, signal.SIGQUIT)
            for _ in range(30):
                if os.path.exists("/tmp/.java_pid%d" % pid):
                    print("jvm attach: OPEN")
                    break
                time.sleep(0.1)
            else:
                print("jvm attach: refused")' "$pid"
              fi
            done
            echo "token file: $(cat /secrets/attach-token 2>&1 | head -c 300)"
            # Nomad's task API socket (Nomad sandboxes only): without the task's workload identity it lets no one in.
            V="http://nomad/v1/var/nomad/jobs/${NOMAD_JOB_PARENT_ID:-none}/sandbox/sandbox"
            # (Nomad makes no socket where its path would be too long for one: a long client data dir.)
            if [ -S /secrets/api.sock ]; then
              echo "task api variable: $(curl -s -m 10 -o /dev/null -w '%{http_code}' --unix-socket /secrets/api.sock "$V" 2>&1)"
            else
              echo "task api variable: no socket"
            fi
            } > probe-daemon.txt 2>&1
            cat probe-daemon.txt
            echo "env: $(wc -l < probe-env.txt) variables, environ dump: $(wc -c < probe-environ.txt) bytes"
            """;

    private BoundaryProbe() {}

    /** The scenario: the two probes, one more call (the stream still works), then finish. */
    static Scenario scenario(Path dir) throws IOException {
        var json = Rest.JSON.createObjectNode().put("name", "boundary-probe")
                .put("description", "Attacks the boundary from inside the sandbox through exec.");
        var turns = json.putArray("turns");
        turns.add(turn("Let me see what the socket answers.", exec(SOCKET_PROBE)));
        turns.add(turn("Now the credentials.", exec(CREDENTIAL_PROBE)));
        turns.add(turn("Still attached?", exec("echo still attached > after.txt; cat after.txt")));
        var finish = Rest.JSON.createObjectNode().put("name", "finish");
        finish.putObject("arguments").put("summary", "Probed the boundary.");
        turns.add(turn("Done.", finish));
        var file = Files.createTempFile(dir, "boundary-probe", ".json");
        Files.writeString(file, json.toString());
        return Scenario.load(file);
    }

    private static ObjectNode exec(String command) {
        var call = Rest.JSON.createObjectNode().put("name", "exec");
        call.putObject("arguments").put("command", command).put("timeout_ms", 60_000);
        return call;
    }

    private static ObjectNode turn(String content, ObjectNode call) {
        var turn = Rest.JSON.createObjectNode().put("content", content);
        turn.putArray("tool_calls").add(call);
        return turn;
    }

    /**
     * What the job's probes found, from its zip: every public route over the socket was refused, the
     * daemon's memory, environment and ptrace were closed, and nothing the sandbox saw holds {@code token}.
     */
    static void assertRefusedAndNoCredential(Map<String, String> zip, List<JsonNode> modelRequests, String token) {
        var socket = zip.get("probe-socket.txt");
        assertThat(socket).as("probe-socket.txt in the zip: %s", zip.keySet()).isNotNull();
        var lines = socket.lines().toList();
        for (var route : List.of("rest-list-jobs", "rest-schedule", "rest-status", "metrics", "docs", "ui", "health",
                "grpc-list-jobs", "grpc-reflection")) {
            assertThat(lines).as("the socket's answer to %s", route)
                    .anySatisfy(line -> assertThat(line).startsWith(route + ": http=404"));
        }
        assertThat(lines).anySatisfy(line -> assertThat(line)
                .startsWith("grpc-attach-without-credential: http=200").containsIgnoringCase("grpc-status: 16"));
        assertThat(socket).doesNotContain("job_id").doesNotContain("nomadshell_jobs").doesNotContain("<html");

        var daemon = zip.get("probe-daemon.txt");
        assertThat(daemon.lines().filter(line -> line.startsWith("daemon pid="))).as("probe-daemon.txt: %s", daemon)
                .hasSize(1);
        assertThat(daemon).containsPattern("mem: .*Permission denied")
                .containsPattern("environ: .*Permission denied")
                .contains("ptrace: refused")
                .contains("jvm attach: refused");
        assertThat(zip.get("after.txt")).isEqualTo("still attached\n");

        var signature = token.substring(token.lastIndexOf('.') + 1);
        for (var entry : zip.entrySet()) {
            assertThat(entry.getValue()).as("%s holds no credential", entry.getKey())
                    .doesNotContain(token).doesNotContain(signature);
        }
        for (var request : modelRequests) {
            assertThat(request.toString()).as("what the model was shown").doesNotContain(token).doesNotContain(signature);
        }
    }

    /**
     * Replays {@code token} on the host's Attach socket, then attaches with a second valid credential
     * for the same job made with the control plane's own key, read from its embedded Redis (what no sandbox has): the first is spent,
     * the second finds the live stream and is refused. Both leave that stream alone.
     */
    static void assertReplayRefused(Path socket, Path dataDir, String jobId, String token) throws Exception {
        var replay = attach(socket, "Bearer " + token);
        assertThat(replay.getCode()).as("%s", replay).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(replay.getDescription()).isEqualTo("this launch credential was already used");

        byte[] key;
        try (var redis = RedisConnection.connect("redis-socket://" + dataDir.resolve("redis/sock/redis.sock"), "probe")) {
            key = new SharedSecrets(redis).get(ControlPlane.ATTACH_KEY);
        }
        var fresh = new JobTokens(key, Clock.systemUTC()).issue(jobId, Instant.now().plusSeconds(600));
        var second = attach(socket, "Bearer " + fresh);
        assertThat(second.getCode()).as("%s", second).isEqualTo(Status.Code.ALREADY_EXISTS);
    }

    /** One Attach call with {@code authorization}: how it ended (OK would mean it was welcomed). */
    static Status attach(Path socket, String authorization) throws Exception {
        var channel = Grpc.newChannelBuilder("unix://" + socket, InsecureChannelCredentials.create()).build();
        try {
            var headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
            var ended = new CompletableFuture<Status>();
            var requests = SandboxServiceGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .attach(new StreamObserver<ControlMessage>() {
                        @Override public void onNext(ControlMessage message) {
                            if (message.hasWelcome()) {
                                ended.complete(Status.OK.withDescription("welcomed"));
                            }
                        }
                        @Override public void onError(Throwable t) { ended.complete(Status.fromThrowable(t)); }
                        @Override public void onCompleted() { ended.complete(Status.OK); }
                    });
            requests.onNext(DaemonMessage.newBuilder().setHello(Hello.newBuilder().setDaemonVersion("replay")).build());
            var status = ended.get(30, TimeUnit.SECONDS);
            requests.onCompleted();
            return status;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
