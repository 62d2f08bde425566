package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionSystemMessageParam;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolFinished;
import io.nomadshell.proto.v1.ToolOutput;
import io.nomadshell.proto.v1.ToolStarted;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * One job's conversation with the model: ask for the next step, run the tool calls it returns,
 * answer each with its result, until the model calls {@code finish} or a limit is reached. Every
 * model reply and tool result goes to the job's transcript and event stream as it happens.
 */
public final class AgentLoop {
    static final String SYSTEM_PROMPT = """
            You are a coding agent. You work alone in a sandboxed Linux machine whose workspace \
            directory (your current directory) holds the project; it has no network access. Use the \
            tools to inspect, write and run code, and check that what you build works. When the task \
            is done, call finish with a short summary: the workspace is then delivered to the user \
            as a zip, so leave in it exactly the files the user should get.""";
    private static final String NUDGE = "Continue the task using the tools, and call finish when it is complete.";
    private static final int MAX_NUDGES = 2;
    private static final Duration TOOL_GRACE = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = ObjectMappers.jsonMapper();

    private final ModelClient model;
    private final JobStore store;
    private final AgentLimits limits;

    public AgentLoop(ModelClient model, JobStore store, AgentLimits limits) {
        this.model = requireNonNull(model, "model");
        this.store = requireNonNull(store, "store");
        this.limits = requireNonNull(limits, "limits");
    }

    /**
     * Runs the job to its end. Interrupting the thread (cancel) ends it at the next wait.
     *
     * @throws SandboxLostException when the sandbox is gone for good; the job cannot go on
     */
    public Outcome run(Job job, ToolRunner tools) throws InterruptedException, SandboxLostException {
        var deadline = Instant.now().plus(limits.maxDuration());
        var messages = new ArrayList<ChatCompletionMessageParam>();
        messages.add(ChatCompletionMessageParam.ofSystem(
                ChatCompletionSystemMessageParam.builder().content(SYSTEM_PROMPT).build()));
        messages.add(ChatCompletionMessageParam.ofUser(
                ChatCompletionUserMessageParam.builder().content(job.task()).build()));
        int nudges = 0;
        for (int step = 1; step <= limits.maxSteps(); step++) {
            if (Instant.now().isAfter(deadline)) {
                return new Outcome.Failed("the job ran out of time (limit " + describe(limits.maxDuration()) + ")");
            }
            ChatCompletion completion;
            try {
                completion = model.complete(messages);
            } catch (ModelClient.ModelException e) {
                return new Outcome.Failed(e.getMessage());
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            var usage = completion.usage();
            store.addUsage(job.id(), 1, usage.map(u -> u.promptTokens()).orElse(0L),
                    usage.map(u -> u.completionTokens()).orElse(0L));
            if (completion.choices().isEmpty()) {
                return new Outcome.Failed("the model returned no answer");
            }
            var reply = completion.choices().get(0).message();
            record(job.id(), Map.of("kind", "assistant", "step", step, "message", reply));
            messages.add(ChatCompletionMessageParam.ofAssistant(reply.toParam()));
            var text = reply.content().orElse("");
            if (!text.isBlank()) {
                store.appendEvent(job.id(), JobEvent.newBuilder()
                        .setAssistantMessage(AssistantMessage.newBuilder().setText(text).setStep(step)));
            }

            var calls = functionCalls(reply);
            if (calls.isEmpty()) {
                if (++nudges > MAX_NUDGES) {
                    return new Outcome.Failed("the model stopped using tools without calling finish");
                }
                messages.add(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content(NUDGE).build()));
                continue;
            }
            nudges = 0;
            String finished = null;
            var images = new ToolImages();
            for (int i = 0; i < calls.size(); i++) {
                var call = calls.get(i);
                var callId = "s" + step + "c" + i;
                var answer = switch (ToolCatalogue.parse(call.function().name(), call.function().arguments(), limits)) {
                    case ToolCatalogue.Action.Finish finish -> {
                        finished = finish.summary();
                        yield "ok";
                    }
                    case ToolCatalogue.Action.Invalid invalid -> "error: " + invalid.message();
                    case ToolCatalogue.Action.Sandbox sandbox -> runInSandbox(job.id(), callId, call, sandbox, tools, deadline, images);
                };
                record(job.id(), Map.of("kind", "tool", "step", step, "tool_call_id", call.id(), "content", answer));
                messages.add(ChatCompletionMessageParam.ofTool(
                        ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content(answer).build()));
            }
            images.appendTo(messages);
            if (finished != null) {
                return new Outcome.Finished(finished);
            }
        }
        return new Outcome.Failed("the job reached its limit of " + limits.maxSteps() + " steps without finishing");
    }

    private String runInSandbox(String jobId, String callId, ChatCompletionMessageFunctionToolCall call,
            ToolCatalogue.Action.Sandbox action, ToolRunner tools, Instant deadline, ToolImages images)
            throws InterruptedException, SandboxLostException {
        store.appendEvent(jobId, JobEvent.newBuilder().setToolStarted(ToolStarted.newBuilder()
                .setCallId(callId).setTool(call.function().name()).setArguments(call.function().arguments())));
        var started = System.nanoTime();
        String answer;
        boolean ok;
        try {
            var remaining = Duration.between(Instant.now(), deadline);
            var timeout = min(action.timeout().plus(TOOL_GRACE), remaining);
            var result = tools.run(action.call().setCallId(callId).build(), timeout, event -> forwardOutput(jobId, event));
            answer = ToolResultText.of(result);
            images.collect(callId, result);
            ok = result.getError().isEmpty() && !(result.hasExec() && result.getExec().getExitCode() != 0);
        } catch (TimeoutException e) {
            answer = "error: the sandbox did not answer in time";
            ok = false;
        }
        store.appendEvent(jobId, JobEvent.newBuilder().setToolFinished(ToolFinished.newBuilder()
                .setCallId(callId)
                .setOk(ok)
                .setSummary(answer.length() > 200 ? answer.substring(0, 200) + "…" : answer)
                .setDurationMs(Duration.ofNanos(System.nanoTime() - started).toMillis())));
        return answer;
    }

    private void forwardOutput(String jobId, ToolEvent event) {
        if (event.hasOutput()) {
            var chunk = event.getOutput();
            store.appendEvent(jobId, JobEvent.newBuilder().setToolOutput(ToolOutput.newBuilder()
                    .setCallId(event.getCallId())
                    .setStream(chunk.getStream() == OutputChunk.Stream.STDERR ? "stderr" : "stdout")
                    .setText(chunk.getData().toString(StandardCharsets.UTF_8))));
        }
    }

    private static List<ChatCompletionMessageFunctionToolCall> functionCalls(ChatCompletionMessage reply) {
        var calls = new ArrayList<ChatCompletionMessageFunctionToolCall>();
        reply.toolCalls().ifPresent(list -> list.forEach(call -> call.function().ifPresent(calls::add)));
        return calls;
    }

    private void record(String jobId, Map<String, Object> entry) {
        try {
            store.appendTranscript(jobId, JSON.writeValueAsString(new LinkedHashMap<>(entry)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot record a transcript entry", e);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String describe(Duration duration) {
        return duration.toMinutes() > 0 ? duration.toMinutes() + " min" : duration.toSeconds() + " s";
    }
}
