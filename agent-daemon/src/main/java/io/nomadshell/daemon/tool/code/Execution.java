package io.nomadshell.daemon.tool.code;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.nomadshell.proto.v1.CodeOutput;
import io.nomadshell.proto.v1.RunCodeResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * One execute_request on its way: the kernel's messages answering it are collected here until
 * the kernel is idle again (or dies).
 */
final class Execution {

    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*[A-Za-z]");

    private final String msgId;
    private final BiConsumer<CodeOutput.Kind, String> live;
    private final List<CodeOutput> outputs = new ArrayList<>();
    private final CompletableFuture<Boolean> idle = new CompletableFuture<>();
    private final CompletableFuture<Void> replied = new CompletableFuture<>();
    private String errorName = "";
    private String errorValue = "";
    private String traceback = "";
    private int executionCount;

    Execution(String msgId, BiConsumer<CodeOutput.Kind, String> live) {
        this.msgId = msgId;
        this.live = live;
    }

    String msgId() {
        return msgId;
    }

    /** A message of the kernel whose parent is this request. */
    synchronized void receive(String type, JsonNode content) {
        switch (type) {
            case "stream" -> {
                CodeOutput.Kind kind = "stderr".equals(content.path("name").asText()) ? CodeOutput.Kind.STDERR : CodeOutput.Kind.STDOUT;
                String text = content.path("text").asText("");
                live.accept(kind, text);
                if (!outputs.isEmpty() && outputs.getLast().getKind() == kind) {
                    CodeOutput last = outputs.removeLast();
                    outputs.add(last.toBuilder().setText(last.getText() + text).build());
                } else {
                    outputs.add(CodeOutput.newBuilder().setKind(kind).setText(text).build());
                }
            }
            case "execute_result" -> outputs.add(rich(CodeOutput.Kind.RESULT, content.path("data")));
            case "display_data", "update_display_data" -> outputs.add(rich(CodeOutput.Kind.DISPLAY, content.path("data")));
            case "error" -> error(content);
            case "execute_reply" -> {
                executionCount = content.path("execution_count").asInt(0);
                String status = content.path("status").asText();
                if ("error".equals(status) && errorName.isEmpty()) {
                    error(content);
                } else if ("aborted".equals(status) && errorName.isEmpty()) {
                    errorName = "Aborted";
                    errorValue = "the kernel did not run this code; run it again";
                }
                replied.complete(null);
            }
            case "status" -> {
                if ("idle".equals(content.path("execution_state").asText())) {
                    idle.complete(true);
                }
            }
            default -> { } // clear_output, comm messages, input requests: nothing to report.
        }
    }

    /** The kernel died under this request. */
    void died() {
        idle.complete(false);
        replied.complete(null);
    }

    /**
     * Waits until the kernel is idle again; true if it is, false if it died.
     *
     * @throws TimeoutException if neither happened within {@code timeout}
     */
    boolean await(Duration timeout) throws TimeoutException, InterruptedException {
        try {
            boolean ok = idle.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (ok) {
                // The reply travels on another channel; it may trail the idle status a little.
                try {
                    replied.get(2, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    // Outputs are complete once idle; only the execution count is missing.
                }
            }
            return ok;
        } catch (ExecutionException e) {
            throw new IllegalStateException("never completed exceptionally", e);
        }
    }

    synchronized RunCodeResult.Builder result() {
        return RunCodeResult.newBuilder()
                .addAllOutputs(outputs)
                .setErrorName(errorName)
                .setErrorValue(errorValue)
                .setTraceback(traceback)
                .setExecutionCount(executionCount);
    }

    private void error(JsonNode content) {
        errorName = content.path("ename").asText("");
        errorValue = content.path("evalue").asText("");
        List<String> lines = new ArrayList<>();
        content.path("traceback").forEach(line -> lines.add(ANSI.matcher(line.asText("")).replaceAll("")));
        traceback = String.join("\n", lines);
    }

    private static CodeOutput rich(CodeOutput.Kind kind, JsonNode data) {
        CodeOutput.Builder output = CodeOutput.newBuilder().setKind(kind);
        JsonNode text = data.get("text/plain");
        if (text != null) {
            // Kernels differ on a trailing newline after a value (tslab adds one, ipykernel not).
            output.setText((text.isArray() ? joined(text) : text.asText("")).stripTrailing());
        }
        JsonNode png = data.get("image/png");
        if (png != null) {
            String base64 = (png.isArray() ? joined(png) : png.asText("")).replaceAll("\\s", "");
            output.setPng(ByteString.copyFrom(Base64.getDecoder().decode(base64)));
        }
        return output.build();
    }

    private static String joined(JsonNode parts) {
        StringBuilder all = new StringBuilder();
        parts.forEach(p -> all.append(p.asText("")));
        return all.toString();
    }
}
