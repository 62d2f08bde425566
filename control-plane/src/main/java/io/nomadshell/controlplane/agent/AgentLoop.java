package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import io.nomadshell.controlplane.context.ContextCall;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.JobContext;
import io.nomadshell.controlplane.context.JobContexts;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.model.ModelAnswer;
import io.nomadshell.controlplane.model.ModelClient;
import io.nomadshell.controlplane.model.ModelException;
import io.nomadshell.controlplane.model.ModelListener;
import io.nomadshell.controlplane.model.ModelRequest;
import io.nomadshell.controlplane.model.TokenUsage;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.OutputChunk;
import io.nomadshell.proto.v1.Screenshot;
import io.nomadshell.proto.v1.ToolEvent;
import io.nomadshell.proto.v1.ToolFinished;
import io.nomadshell.proto.v1.ToolOutput;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.ToolStarted;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * One job's conversation with the model: ask for the next step, run the tool calls it returns,
 * answer each with its result, until the model calls {@code finish} or a limit (steps, time,
 * tokens, cost) is reached. Every model reply and tool result goes to the job's transcript (through
 * its {@link JobContext}, which also builds each request under the token budget) and event stream
 * as it happens.
 */
public final class AgentLoop {
    public static final String SYSTEM_PROMPT = """
            You are a coding agent. You work alone in a sandboxed Linux machine whose workspace \
            directory (your current directory) holds the project; it has no network access. Use the \
            tools to inspect, write and run code, and check that what you build works. When the task \
            is done, call finish with a short summary: the workspace is then delivered to the user \
            as a zip, so leave in it exactly the files the user should get.""";
    private static final String NUDGE = "Continue the task using the tools, and call finish when it is complete.";
    private static final int MAX_NUDGES = 2;
    private static final Duration TOOL_GRACE = Duration.ofSeconds(30);

    private final ModelClient model;
    private final JobStore store;
    private final AgentLimits limits;
    private final JobContexts contexts;
    private final ContextOptions budgets;

    public AgentLoop(ModelClient model, JobStore store, AgentLimits limits, JobContexts contexts, ContextOptions budgets) {
        this.model = requireNonNull(model, "model");
        this.store = requireNonNull(store, "store");
        this.limits = requireNonNull(limits, "limits");
        this.contexts = requireNonNull(contexts, "contexts");
        this.budgets = requireNonNull(budgets, "budgets");
    }

    /**
     * Runs the job to its end, or on from where its transcript ends if it ran before (the control
     * plane restarted). Interrupting the thread (cancel) ends it at the next wait.
     *
     * @throws SandboxLostException when the sandbox is gone for good; the job cannot go on
     */
    public Outcome run(Job job, ToolRunner tools) throws InterruptedException, SandboxLostException {
        var deadline = (job.startedAt() != null ? job.startedAt() : Instant.now()).plus(job.sandbox().timeout());
        try (var context = contexts.open(job.id(), job.task(), messages -> summarize(job.id(), messages))) {
            var finishedBefore = context.finished();
            if (finishedBefore.isPresent()) {
                return new Outcome.Finished(finishedBefore.get());
            }
            return loop(job, tools, context, deadline);
        }
    }

    private Outcome loop(Job job, ToolRunner tools, JobContext context, Instant deadline)
            throws InterruptedException, SandboxLostException {
        int nudges = 0;
        for (int step = context.lastStep() + 1; step <= limits.maxSteps(); step++) {
            if (Instant.now().isAfter(deadline)) {
                return new Outcome.Failed("the job ran out of time (limit " + describe(job.sandbox().timeout()) + ")");
            }
            var prompt = context.prompt();
            var overBudget = overBudget(job.id(), prompt.tokens());
            if (overBudget != null) {
                return new Outcome.Failed(overBudget);
            }
            ModelAnswer reply0;
            try {
                reply0 = model.complete(new ModelRequest(prompt.messages(), ToolCatalogue.definitions(), prompt.tokens()),
                        usage(job.id(), 1));
            } catch (ModelException e) {
                return new Outcome.Failed(e.getMessage());
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            var reply = reply0.message();
            context.addAssistant(step, reply);
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
                context.addUser(step, NUDGE);
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
                    case ToolCatalogue.Action.Context own -> {
                        if (own.call() instanceof ContextCall.Search) {
                            WorkspaceFiles.refresh(context, tools, callId);
                        }
                        yield context.run(own.call());
                    }
                };
                var recorded = context.addResult(step, call, answer);
                if (recorded.stuck() != null) {
                    return new Outcome.Failed(recorded.stuck());
                }
            }
            images.message().ifPresent(context::addImages);
            if (finished != null) {
                return new Outcome.Finished(finished);
            }
        }
        return new Outcome.Failed("the job reached its limit of " + limits.maxSteps() + " steps without finishing");
    }

    /** Why the next request may not be sent (a token or cost budget), or null. */
    private @Nullable String overBudget(String jobId, int promptTokens) {
        if (budgets.maxJobTokens() == 0 && budgets.maxJobCostUsd() == 0) {
            return null;
        }
        var job = store.find(jobId).orElseThrow();
        if (budgets.maxJobTokens() > 0 && job.totalTokens() + promptTokens > budgets.maxJobTokens()) {
            return "the job reached its token budget: " + job.totalTokens() + " of " + budgets.maxJobTokens()
                    + " tokens used, and the next request needs " + promptTokens + " more";
        }
        if (budgets.maxJobCostUsd() > 0 && job.costUsd() >= budgets.maxJobCostUsd()) {
            return String.format(Locale.ROOT, "the job reached its cost budget: $%.4f spent of $%.4f",
                    job.costUsd(), budgets.maxJobCostUsd());
        }
        return null;
    }

    /** A condensing call: no tools, its usage counted toward the job (it is not a step). */
    private String summarize(String jobId, List<ChatCompletionMessageParam> messages) throws ModelException {
        var answer = model.complete(new ModelRequest(messages, List.of(), 0), usage(jobId, 0));
        return answer.message().content().orElse("");
    }

    /** Counts every attempt's tokens toward the job; {@code steps} for the first attempt only. */
    private ModelListener usage(String jobId, int steps) {
        return new ModelListener() {
            private int stepsLeft = steps;

            @Override
            public void onText(String delta) {}

            @Override
            public void onAttempt(TokenUsage usage) {
                store.addUsage(jobId, stepsLeft, usage.promptTokens(), usage.completionTokens(),
                        budgets.prices().priceOf(model.model()).cost(usage.promptTokens(), usage.completionTokens()));
                stepsLeft = 0;
            }
        };
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
            publishScreenshot(jobId, callId, result);
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

    /** Watchers see what the computer tool saw: the PNG is kept, and an event links to it. */
    private void publishScreenshot(String jobId, String callId, ToolResult result) {
        if (!result.hasComputer() || result.getComputer().getPng().isEmpty()) {
            return;
        }
        var computer = result.getComputer();
        store.putScreenshot(jobId, callId, computer.getPng().toByteArray());
        store.appendEvent(jobId, JobEvent.newBuilder().setScreenshot(Screenshot.newBuilder()
                .setCallId(callId)
                .setUrl("/v1/jobs/" + jobId + "/screenshots/" + callId)
                .setWidth(computer.getImageWidth())
                .setHeight(computer.getImageHeight())));
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

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String describe(Duration duration) {
        return duration.toMinutes() > 0 ? duration.toMinutes() + " min" : duration.toSeconds() + " s";
    }
}
