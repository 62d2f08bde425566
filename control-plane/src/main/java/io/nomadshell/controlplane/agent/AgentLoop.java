package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import com.openai.core.JsonMissing;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.context.BudgetTooSmallException;
import io.nomadshell.controlplane.context.ContextCall;
import io.nomadshell.controlplane.context.ContextOptions;
import io.nomadshell.controlplane.context.JobContext;
import io.nomadshell.controlplane.context.JobContexts;
import io.nomadshell.controlplane.context.MessageTokens;
import io.nomadshell.controlplane.context.ValidToolCalls;
import io.nomadshell.controlplane.job.Job;
import io.nomadshell.controlplane.quota.Quotas;
import io.nomadshell.controlplane.model.ModelAnswer;
import io.nomadshell.controlplane.model.ModelClient;
import io.nomadshell.controlplane.model.ModelException;
import io.nomadshell.controlplane.model.ModelListener;
import io.nomadshell.controlplane.model.ModelProfile;
import io.nomadshell.controlplane.model.ModelRequest;
import io.nomadshell.controlplane.model.TokenUsage;
import io.nomadshell.controlplane.session.SandboxLostException;
import io.nomadshell.controlplane.store.JobStore;
import io.nomadshell.proto.v1.AssistantMessage;
import io.nomadshell.proto.v1.JobEvent;
import io.nomadshell.proto.v1.ToolFinished;
import io.nomadshell.proto.v1.ToolResult;
import io.nomadshell.proto.v1.ToolStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's conversation with the model: ask for the next step, run the tool calls it returns,
 * answer each with its result, until the model calls {@code finish} or a limit (steps, time,
 * tokens, cost) is reached. Every model reply and tool result goes to the job's transcript (through
 * its {@link JobContext}, which also builds each request under the token budget) and event stream
 * as it happens.
 */
public final class AgentLoop {
    private static final Logger log = LoggerFactory.getLogger(AgentLoop.class);
    public static final String SYSTEM_PROMPT = """
            You are a coding agent. You work alone in a sandboxed Linux machine whose workspace \
            directory (your current directory) holds the project; it has no network access. Use the \
            tools to inspect, write and run code, and check that what you build works. When the task \
            is done, call finish with a short summary: the workspace is then delivered to the user \
            as a zip, so leave in it exactly the files the user should get.""";
    private static final String NUDGE = "Continue the task using the tools, and call finish when it is complete.";
    private static final String CUT = "Your answer was cut at the output limit of %d tokens%s. Give a shorter answer"
            + " (smaller steps, shorter files: write a long file in parts, with edit_file or exec).";
    private static final String NO_TOOLS = "the model endpoint does not pass tools to the model (%s): the job cannot use its"
            + " sandbox. Start llama-server with --jinja and a model whose chat template supports tools, or choose another model.";
    private static final int MAX_NUDGES = 2;
    private static final double SHRINK = 1.25;
    private static final Duration TOOL_GRACE = Duration.ofSeconds(30);

    private final ModelClient model;
    private final ModelProfile profile;
    private final JobStore store;
    private final AgentLimits limits;
    private final JobContexts contexts;
    private final ContextOptions budgets;
    private final CallOutputs outputs;
    private final Quotas quotas;

    /** {@code quotas}: the API keys' daily limits, which stop their jobs' model calls once used up. */
    public AgentLoop(ModelClient model, JobStore store, AgentLimits limits, JobContexts contexts, ContextOptions budgets,
            CallOutputs outputs, Quotas quotas) {
        this.quotas = requireNonNull(quotas, "quotas");
        this.outputs = requireNonNull(outputs, "outputs");
        this.model = requireNonNull(model, "model");
        this.profile = model.profile();
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
            answerOpenCalls(job, tools, context, deadline);
            return loop(job, tools, context, deadline);
        } catch (JobFailed e) {
            return new Outcome.Failed(e.getMessage());
        }
    }

    /**
     * Steps until {@code finish} or a limit. A step is an answer that was acted on: its calls run, or
     * it was cut and the model told so. An answer without calls is nudged and is not a step; only
     * {@value #MAX_NUDGES} in a row are.
     */
    private Outcome loop(Job job, ToolRunner tools, JobContext context, Instant deadline)
            throws InterruptedException, SandboxLostException, JobFailed {
        int nudges = 0;
        for (int steps = context.lastStep(); ; ) {
            // The user's word first: a message (even after finish: the job goes on with it), or a pause.
            var inbox = store.sessions().takeInbox(job.id(), steps + 1);
            inbox.messages().forEach(context::heard);
            if (inbox.pause()) {
                return new Outcome.Paused(steps, inbox.rollbackTo());
            }
            var finished = context.finished();
            if (finished.isPresent()) {
                return new Outcome.Finished(finished.get());
            }
            if (steps >= limits.maxSteps()) {
                break;
            }
            if (Instant.now().isAfter(deadline)) {
                return new Outcome.Failed("the job ran out of time (limit " + describe(job.sandbox().timeout()) + ")");
            }
            int step = steps + 1;
            var asked = ask(job.id(), context, step);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            var answer = asked.answer();
            var said = answer.cut() ? answer.message() : TextToolCalls.recover(answer.message());
            var cutCalls = answer.cut() ? functionCalls(said) : List.<ChatCompletionMessageFunctionToolCall>of();
            if (answer.cut()) {
                // Calls cut in the middle never run, and are not replayed: the model is told instead.
                said = said.toBuilder().toolCalls(JsonMissing.of()).content(said.content().orElse("")).build();
            }
            var repaired = ValidToolCalls.repair(said, step);
            var reply = repaired.message();
            context.addAssistant(step, reply);
            var text = reply.content().orElse("");
            if (!text.isBlank() || asked.streamed()) {
                // After pieces, always the whole: it replaces them (a retry's pieces follow a failed
                // attempt's; calls written as text leave the call's words, now run as a call).
                store.appendEvent(job.id(), JobEvent.newBuilder()
                        .setAssistantMessage(AssistantMessage.newBuilder().setText(text).setStep(step)));
            }
            if (answer.cut()) {
                for (int i = 0; i < cutCalls.size(); i++) {
                    refuse(job.id(), "s" + step + "c" + i, cutCalls.get(i).function().name(), summary(cutCalls.get(i).function().arguments()),
                            "not run: the answer was cut at the output limit");
                }
                var names = cutCalls.stream().map(call -> call.function().name()).distinct().toList();
                context.addUser(step, CUT.formatted(model.maxTokensFor(asked.promptTokens()),
                        names.isEmpty() ? "" : ", so its calls (" + String.join(", ", names) + ") were not run"));
                steps = countStep(job.id(), step);
                nudges = 0;
                tools.checkpoint(step);
                continue;
            }

            var calls = functionCalls(reply);
            if (calls.isEmpty()) {
                if (steps == 0 && profile.supportsTools().equals(Optional.of(false))) {
                    return new Outcome.Failed(NO_TOOLS.formatted("the server says its chat template cannot carry tools"));
                }
                if (++nudges > MAX_NUDGES) {
                    return new Outcome.Failed(steps == 0
                            ? "the model answered " + nudges + " times without calling a tool: it may not support tools,"
                                    + " or its server drops them (llama-server needs --jinja and a chat template with tools)"
                            : "the model stopped using tools without calling finish");
                }
                context.addUser(step, NUDGE);
                continue;
            }
            nudges = 0;
            steps = countStep(job.id(), step);
            var offered = asked.tools().stream().map(tool -> tool.asFunction().function().name()).toList();
            var images = new ToolImages(profile.acceptsImages());
            for (int i = 0; i < calls.size(); i++) {
                var call = calls.get(i);
                var callId = "s" + step + "c" + i;
                var name = call.function().name();
                var invalid = repaired.errors().get(call.id());
                var action = invalid != null ? new ToolCatalogue.Action.Invalid(invalid)
                        : !offered.contains(name) ? new ToolCatalogue.Action.Invalid("there is no tool named '" + name
                                + "'; the tools are " + String.join(", ", offered))
                        : ToolCatalogue.parse(name, call.function().arguments(), limits);
                var result = switch (action) {
                    case ToolCatalogue.Action.Finish finish -> "ok";
                    case ToolCatalogue.Action.Invalid refused ->
                            refuse(job.id(), callId, name, call.function().arguments(), refused.message());
                    case ToolCatalogue.Action.Sandbox sandbox ->
                            runInSandbox(job.id(), callId, call, sandbox, tools, deadline, images, true);
                    case ToolCatalogue.Action.Context own -> {
                        if (own.call() instanceof ContextCall.Search) {
                            WorkspaceFiles.refresh(context, tools, callId);
                        }
                        yield context.run(own.call());
                    }
                };
                var recorded = context.addResult(step, call, result);
                if (recorded.stuck() != null) {
                    return new Outcome.Failed(recorded.stuck());
                }
            }
            images.message().ifPresent(context::addImages);
            tools.checkpoint(step);
        }
        return new Outcome.Failed("the job reached its limit of " + limits.maxSteps() + " steps without finishing");
    }

    /**
     * Answers the calls a resumed transcript's last turn left open (its replica stopped while they
     * ran). In the sandbox they ran in, each sandbox call is asked again by its call id: the daemon
     * gives the result of a call that ran, waits for one still running, and never runs one twice.
     * Elsewhere each is reported lost, as running it again could do its work twice.
     */
    private void answerOpenCalls(Job job, ToolRunner tools, JobContext context, Instant deadline)
            throws InterruptedException, SandboxLostException {
        var open = context.unanswered();
        if (open.isEmpty()) {
            return;
        }
        int step = context.lastStep();
        var images = new ToolImages(profile.acceptsImages());
        for (var call : open) {
            var action = tools.keptCalls()
                    ? ToolCatalogue.parse(call.function().name(), call.function().arguments(), limits) : null;
            var result = action instanceof ToolCatalogue.Action.Sandbox sandbox
                    ? runInSandbox(job.id(), "s" + step + "c" + context.positionInLastTurn(call), call, sandbox, tools,
                            deadline, images, false)
                    : JobContext.LOST;
            context.addResult(step, call, result);
        }
        images.message().ifPresent(context::addImages);
    }

    /** An answer and the request it answers. */
    private record Asked(ModelAnswer answer, List<ChatCompletionTool> tools, int promptTokens, boolean streamed) {}

    /**
     * One model call for {@code step}, its words streamed to watchers. A request the server finds too
     * long is built again smaller, and one with images it refuses again without them, once each.
     */
    private Asked ask(String jobId, JobContext context, int step) throws JobFailed, InterruptedException {
        boolean shrunk = false;
        boolean imagesDropped = false;
        while (true) {
            if (!profile.acceptsImages()) {
                // Another job may have learnt it since this one's images were shown.
                context.dropImages();
            }
            JobContext.Prompt prompt;
            try {
                prompt = context.prompt();
            } catch (BudgetTooSmallException e) {
                throw new JobFailed(e.getMessage());
            }
            int promptTokens = profile.scale(prompt.tokens());
            var overBudget = overBudget(jobId, promptTokens);
            if (overBudget != null) {
                throw new JobFailed(overBudget);
            }
            var deltas = new AssistantDeltas(step,
                    delta -> store.appendEvent(jobId, JobEvent.newBuilder().setAssistantDelta(delta)), System::nanoTime);
            try {
                var answer = model.complete(new ModelRequest(prompt.messages(), prompt.tools(), promptTokens), listener(jobId, deltas));
                deltas.flush();
                if (answer.usage().reported()) {
                    profile.calibrate(prompt.tokens(), answer.usage().promptTokens());
                }
                return new Asked(answer, prompt.tools(), promptTokens, deltas.sentAny());
            } catch (ModelException e) {
                deltas.flush();
                switch (e.kind()) {
                    case CONTEXT_TOO_LONG -> {
                        if (shrunk) {
                            throw new JobFailed(e.getMessage());
                        }
                        log.info("Job {}: the server found a request of about {} tokens too long; counting {} times larger",
                                jobId, promptTokens, SHRINK);
                        profile.distrust(SHRINK);
                        shrunk = true;
                    }
                    case IMAGES_REFUSED -> {
                        if (imagesDropped) {
                            throw new JobFailed(e.getMessage());
                        }
                        log.info("Job {}: the model endpoint refused images; describing them in words from now on", jobId);
                        profile.refuseImages();
                        imagesDropped = true;
                    }
                    case TOOLS_UNSUPPORTED -> throw new JobFailed(NO_TOOLS.formatted(e.getMessage()));
                    default -> throw new JobFailed(e.getMessage());
                }
            }
        }
    }

    /** Counts a step toward the job (its tokens were counted by attempt). */
    private int countStep(String jobId, int step) {
        store.addUsage(jobId, 1, 0, 0, 0);
        return step;
    }

    /** A call that is not run: watchers see it start and fail, the model reads why. */
    private String refuse(String jobId, String callId, String tool, String arguments, String why) {
        store.appendEvent(jobId, JobEvent.newBuilder().setToolStarted(ToolStarted.newBuilder()
                .setCallId(callId).setTool(tool).setArguments(arguments)));
        var answer = "error: " + why;
        store.appendEvent(jobId, JobEvent.newBuilder().setToolFinished(ToolFinished.newBuilder()
                .setCallId(callId).setOk(false).setSummary(summary(answer)).setDurationMs(0)));
        return answer;
    }

    /** Why the next request may not be sent (a token or cost budget of the job, or of its API key's day), or null. */
    private @Nullable String overBudget(String jobId, int promptTokens) {
        if (budgets.maxJobTokens() == 0 && budgets.maxJobCostUsd() == 0 && quotas.all().isEmpty()) {
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
        return keyOverDay(job);
    }

    /** Why the job's API key may not use the model more today (its tokens or dollars of the UTC day are spent), or null. */
    private @Nullable String keyOverDay(Job job) {
        var quota = quotas.of(job.owner());
        if (quota.tokensPerDay() == 0 && quota.usdPerDay() == 0) {
            return null;
        }
        var usage = store.usage(job.owner(), quota);
        var until = "; send the job a message to go on after " + usage.dayEnds() + " (UTC midnight)";
        if (quota.tokensPerDay() > 0 && usage.tokensToday() >= quota.tokensPerDay()) {
            return "API key " + quota.name() + " used its model tokens of the day: " + usage.tokensToday() + " of "
                    + quota.tokensPerDay() + " (tokens_per_day)" + until;
        }
        if (quota.usdPerDay() > 0 && usage.usdToday() >= quota.usdPerDay()) {
            return String.format(Locale.ROOT, "API key %s spent its model dollars of the day: $%.4f of $%.4f (usd_per_day)",
                    quota.name(), usage.usdToday(), quota.usdPerDay()) + until;
        }
        return null;
    }

    /** A condensing call: no tools, its usage counted toward the job (it is not a step). */
    private String summarize(String jobId, List<ChatCompletionMessageParam> messages)
            throws ModelException, InterruptedException {
        int counted = MessageTokens.count(messages);
        var answer = model.complete(new ModelRequest(messages, List.of(), profile.scale(counted)), listener(jobId, null));
        if (answer.usage().reported()) {
            profile.calibrate(counted, answer.usage().promptTokens());
        }
        return answer.message().content().orElse("");
    }

    /** Counts every attempt's tokens toward the job, and passes the answer's words to {@code deltas}. */
    private ModelListener listener(String jobId, @Nullable AssistantDeltas deltas) {
        return new ModelListener() {
            @Override
            public void onText(String delta) {
                if (deltas != null) {
                    deltas.onText(delta);
                }
            }

            @Override
            public void onAttempt(TokenUsage usage) {
                store.addUsage(jobId, 0, usage.promptTokens(), usage.completionTokens(),
                        budgets.prices().priceOf(model.model()).cost(usage.promptTokens(), usage.completionTokens()));
            }
        };
    }

    /** Runs one sandbox call; {@code announce} false for a call asked again, whose start watchers saw already. */
    private String runInSandbox(String jobId, String callId, ChatCompletionMessageFunctionToolCall call,
            ToolCatalogue.Action.Sandbox action, ToolRunner tools, Instant deadline, ToolImages images, boolean announce)
            throws InterruptedException, SandboxLostException {
        tools.awaitSandbox();
        if (announce) {
            store.appendEvent(jobId, JobEvent.newBuilder().setToolStarted(ToolStarted.newBuilder()
                    .setCallId(callId).setTool(call.function().name()).setArguments(call.function().arguments())));
        }
        var started = System.nanoTime();
        String answer;
        boolean ok;
        try {
            var remaining = Duration.between(Instant.now(), deadline);
            var timeout = min(action.timeout().plus(TOOL_GRACE), remaining);
            ToolResult result;
            try (var live = outputs.live(jobId, callId)) {
                result = tools.run(action.call().setCallId(callId).build(), timeout, live);
            }
            answer = ToolResultText.of(result);
            images.collect(callId, result);
            outputs.screenshot(jobId, callId, result);
            ok = result.getError().isEmpty() && !(result.hasExec() && result.getExec().getExitCode() != 0);
        } catch (TimeoutException e) {
            answer = "error: the sandbox did not answer in time";
            ok = false;
        }
        store.appendEvent(jobId, JobEvent.newBuilder().setToolFinished(ToolFinished.newBuilder()
                .setCallId(callId)
                .setOk(ok)
                .setSummary(summary(answer))
                .setDurationMs(Duration.ofNanos(System.nanoTime() - started).toMillis())));
        return answer;
    }

    private static List<ChatCompletionMessageFunctionToolCall> functionCalls(ChatCompletionMessage reply) {
        var calls = new ArrayList<ChatCompletionMessageFunctionToolCall>();
        reply.toolCalls().ifPresent(list -> list.forEach(call -> call.function().ifPresent(calls::add)));
        return calls;
    }

    private static String summary(String answer) {
        return answer.length() > 200 ? answer.substring(0, 200) + "…" : answer;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String describe(Duration duration) {
        return duration.toMinutes() > 0 ? duration.toMinutes() + " min" : duration.toSeconds() + " s";
    }

    /** Ends the job with a reason in words. */
    private static final class JobFailed extends Exception {
        JobFailed(String reason) {
            super(reason, null, false, false);
        }
    }
}
