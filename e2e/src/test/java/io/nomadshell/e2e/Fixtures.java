package io.nomadshell.e2e;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipInputStream;
import io.nomadshell.scriptedmodel.Scenario;

/** Scenarios, zips and host processes. */
final class Fixtures {
    static final String HELLO_PY = "print('Hello World')\n";
    static final String HELLO_README = "# Hello World\n\nA Python script that prints `Hello World`.\n\nRun it with:\n\n```\npython3 hello.py\n```\n";
    static final String HELLO_TASK = "Create a Python script that prints Hello World";

    private Fixtures() {}

    /** A scenario from src/test/resources/scenarios, with MARKER replaced. */
    static Scenario scenario(String name, Path tempDir, String marker) throws IOException {
        String text;
        try (InputStream in = Fixtures.class.getResourceAsStream("/scenarios/" + name + ".json")) {
            if (in == null) {
                throw new IllegalArgumentException("no scenario " + name);
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        var file = Files.createTempFile(tempDir, name, ".json");
        Files.writeString(file, text.replace("MARKER", marker));
        return Scenario.load(file);
    }

    /** What the serve-ports scenario's big.bin holds: 5 MB of 0..255 over and over. */
    static byte[] bigFile() {
        var out = new ByteArrayOutputStream();
        var block = new byte[256];
        for (int i = 0; i < 256; i++) {
            block[i] = (byte) i;
        }
        for (int i = 0; i < 20_000; i++) {
            out.writeBytes(block);
        }
        return out.toByteArray();
    }

    /** File name → content of every file entry in a zip. */
    static Map<String, String> unzip(byte[] zip) {
        var files = new LinkedHashMap<String, String>();
        try (var in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            for (var entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                if (!entry.isDirectory()) {
                    files.put(entry.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /** Pids of host processes whose command line contains the marker (excluding this JVM). */
    static List<Long> processesWith(String marker) {
        var self = ProcessHandle.current().pid();
        var found = new ArrayList<Long>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (var dir : (Iterable<Path>) dirs::iterator) {
                var name = dir.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || Long.parseLong(name) == self) {
                    continue;
                }
                try {
                    var cmdline = new String(Files.readAllBytes(dir.resolve("cmdline")), StandardCharsets.UTF_8);
                    if (cmdline.contains(marker)) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException gone) {
                    // the process ended while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** The job's whole event history, one line per event, for failure messages. */
    static String history(int port, String jobId) {
        var channel = io.grpc.Grpc.newChannelBuilder("127.0.0.1:" + port, io.grpc.InsecureChannelCredentials.create()).build();
        var lines = new StringBuilder();
        try {
            io.nomadshell.proto.v1.JobServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS)
                    .watchJob(io.nomadshell.proto.v1.WatchJobRequest.newBuilder().setJobId(jobId).build())
                    .forEachRemaining(event -> lines.append(event.getSequence()).append(' ')
                            .append(com.google.protobuf.TextFormat.shortDebugString(event)).append('\n'));
        } catch (RuntimeException e) {
            lines.append("(").append(e.getMessage()).append(")");
        } finally {
            channel.shutdownNow();
        }
        return lines.toString();
    }

    /** The job's events as its SSE route replays them (the job has ended: the stream ends with it). */
    static List<Sse.Event> events(String baseUrl, String jobId) {
        var read = Sse.read(baseUrl + "/v1/jobs/" + jobId + "/events", Map.of(), seen -> false, java.time.Duration.ofSeconds(30));
        org.assertj.core.api.Assertions.assertThat(read.status()).as(read.errorBody()).isEqualTo(200);
        return read.dispatched();
    }

    /** The assistant messages of a chat request's JSON. */
    static List<com.fasterxml.jackson.databind.JsonNode> assistants(com.fasterxml.jackson.databind.JsonNode request) {
        var found = new ArrayList<com.fasterxml.jackson.databind.JsonNode>();
        request.path("messages").forEach(message -> {
            if (message.path("role").asText().equals("assistant")) {
                found.add(message);
            }
        });
        return found;
    }
}
