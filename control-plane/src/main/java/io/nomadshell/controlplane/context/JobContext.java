package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionSystemMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.controlplane.model.ModelProfile;
import io.nomadshell.controlplane.store.ContextStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One job's context: records every message, call and result in the transcript (large outputs out
 * of line), and builds each request under the budget: system prompt and the tools that fit, the
 * task, the running summary and pinned notes, then the newest turns verbatim, condensing older
 * turns when they no longer fit. The budget is in the server's tokens: this side counts in its own
 * (o200k) and divides the budget by the model's calibrated ratio. Opened from the transcript, so a
 * job taken over after a restart goes on where it was. Used by one job's loop at a time.
 */
public final class JobContext implements AutoCloseable {
    static final String GUIDE = """

            Your context is managed: older steps are condensed into a summary, long outputs are shown \
            as head and tail with a handle, and the recall tool searches everything you have seen, \
            word for word. Keep what you must not forget in your notes (the notes tool).""";
    public static final String LOST = "error: the control plane running this job stopped while this call ran, so its result is lost."
            + " It was not run again: check the workspace to see whether it took effect.";
    private static final String SHORTENED = "\n[... %d characters not shown: print less at a time, e.g. with head, tail or grep ...]\n";
    private static final String OUT_OF_LINE = "\n[... %d characters not shown. The whole output is stored as %s:"
            + " recall with handle \"%s\" searches it, or reads it from an offset ...]\n";
    private static final String USER_SAYS = "Message from the user (it may change or add to the task): ";
    private static final ObjectMapper JSON = ObjectMappers.jsonMapper();
    private static final int MAX_CONDENSING_CALLS = 2;

    private final String jobId;
    private final ContextStore store;
    private final int total;
    private final ModelProfile profile;
    private final List<ChatCompletionTool> tools;
    private final int[] toolSizes;
    private final Condenser condenser;
    private final String systemPrompt;
    /** The task, and the user's messages that came before the first step. */
    private String taskText;
    private @Nullable Offer offer;
    private @Nullable ChatCompletionMessageParam task;
    private int taskLimit;
    private final List<Turn> turns = new ArrayList<>();
    private final Recall recall = new Recall();
    private final StuckDetector stuck = new StuckDetector();
    private final Map<String, Long> indexedFiles = new HashMap<>();
    private String summary;
    private int condensed;
    private String notes;
    private @Nullable String finished;

    private JobContext(String jobId, String task, String systemPrompt, ContextStore store, int total,
            ModelProfile profile, List<ChatCompletionTool> tools, Summarizer summarizer) {
        this.jobId = jobId;
        this.store = store;
        this.total = total;
        this.profile = profile;
        this.tools = List.copyOf(tools);
        this.toolSizes = this.tools.stream().mapToInt(tool -> MessageTokens.countTools(List.of(tool))).toArray();
        this.condenser = new Condenser(summarizer);
        this.systemPrompt = systemPrompt;
        this.taskText = task;
        var state = store.state(jobId);
        this.summary = state.summary();
        this.condensed = state.condensedTurns();
        this.notes = state.notes();
        recall.add("the task", null, task);
    }

    /**
     * The job's context as its transcript left it. A call that has no recorded result (the control
     * plane stopped while it ran) is answered as lost, never run again.
     */
    static JobContext open(String jobId, String task, String systemPrompt, ContextStore store, int total,
            ModelProfile profile, List<ChatCompletionTool> tools, Summarizer summarizer) {
        var context = new JobContext(jobId, task, systemPrompt, store, total, profile, tools, summarizer);
        try {
            context.replay(store.transcript(jobId));
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        return context;
    }

    private void replay(List<String> entries) {
        for (var entry : entries) {
            JsonNode node;
            try {
                node = JSON.readTree(entry);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("the transcript of job " + jobId + " has a corrupt entry", e);
            }
            int step = node.path("step").asInt();
            switch (node.path("kind").asText()) {
                case "assistant" -> {
                    ChatCompletionMessage message;
                    try {
                        message = JSON.treeToValue(node.get("message"), ChatCompletionMessage.class);
                    } catch (JsonProcessingException e) {
                        throw new IllegalStateException("the transcript of job " + jobId + " has a corrupt message", e);
                    }
                    // Transcripts written before calls were repaired on the way in may hold invalid ones.
                    remember(step, ValidToolCalls.repair(message, step).message());
                }
                case "tool" -> {
                    var turn = turns.get(turns.size() - 1);
                    var callId = node.path("tool_call_id").asText();
                    var call = turn.calls().stream().filter(c -> c.id().equals(callId)).findFirst().orElseThrow();
                    var handle = node.path("output").asText(null);
                    var shown = node.path("content").asText();
                    var whole = handle == null ? shown : store.output(jobId, handle).orElse(shown);
                    learn(turn, call, whole, shown, handle, node.path("note").asText(""));
                }
                case "user" -> turns.get(turns.size() - 1).follow(user(node.path("content").asText()));
                case "message" -> heard(node.path("content").asText());
                default -> { }
            }
        }
    }

    /**
     * The calls of the transcript's last turn that have no result: its replica stopped while they ran
     * (or before they started), in the order the model made them. The loop answers each before it goes
     * on, with {@link #LOST} or with its result asked again of the same sandbox.
     */
    public List<ChatCompletionMessageFunctionToolCall> unanswered() {
        if (turns.isEmpty()) {
            return List.of();
        }
        var last = turns.get(turns.size() - 1);
        var open = last.unanswered();
        return last.calls().stream().filter(call -> open.contains(call.id())).toList();
    }

    /** Where {@code call} stands among the calls of the last turn (its index, for its call id). */
    public int positionInLastTurn(ChatCompletionMessageFunctionToolCall call) {
        var calls = turns.get(turns.size() - 1).calls();
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).id().equals(call.id())) {
                return i;
            }
        }
        throw new IllegalArgumentException("call " + call.id() + " is not in the last turn");
    }

    /** The step the transcript ends with; 0 for a new job. */
    public int lastStep() {
        return turns.isEmpty() ? 0 : turns.get(turns.size() - 1).step();
    }

    /** The summary given with {@code finish}, if the transcript shows the model called it. */
    public Optional<String> finished() {
        return Optional.ofNullable(finished);
    }

    /**
     * Records the model's reply, repaired by {@link ValidToolCalls} (the caller does that first, to
     * answer invalid calls); its calls' results follow with {@link #addResult}.
     */
    public void addAssistant(int step, ChatCompletionMessage reply) {
        record(Map.of("kind", "assistant", "step", step, "message", reply));
        remember(step, reply);
    }

    /** Records a message to the model after a turn (a nudge). */
    public void addUser(int step, String text) {
        record(Map.of("kind", "user", "step", step, "content", text));
        turns.get(turns.size() - 1).follow(user(text));
    }

    /**
     * A message from the job's user, already in the transcript: the model sees it next, after the
     * newest turn (or with the task, before the first), and a {@code finish} before it no longer ends
     * the job.
     */
    public void heard(String text) {
        finished = null;
        recall.add("a message from the user", null, text);
        if (turns.isEmpty()) {
            taskText = taskText + "\n\n" + USER_SAYS + text;
            task = null;
        } else {
            turns.get(turns.size() - 1).follow(user(USER_SAYS + text));
        }
    }

    /**
     * Shows the model images after the newest turn's results (a screenshot, a plot), in a user
     * message with image parts; only the newest few images of the job stay in the prompt. Images
     * are not written to the transcript: a resumed job takes a new screenshot.
     */
    public void addImages(ChatCompletionMessageParam message) {
        requireNonNull(message, "message");
        turns.get(turns.size() - 1).follow(message);
        int seen = 0;
        for (int i = turns.size() - 1; i >= 0; i--) {
            seen = turns.get(i).keepNewestImages(seen);
        }
    }

    /** Shows every image in the context as its text description: the model endpoint refused image parts. */
    public void dropImages() {
        turns.forEach(Turn::dropImages);
    }

    /** What became of a call's result: what the model is shown, and whether the job is stuck. */
    public record Answer(String shown, @Nullable String stuck) {}

    /**
     * Records the result of one call: a large one goes out of line and the model sees its head and
     * tail with the handle. A call repeated with the same result is pointed out to the model, and
     * ends the job if it goes on.
     */
    public Answer addResult(int step, ChatCompletionMessageFunctionToolCall call, String result) {
        requireNonNull(call, "call");
        requireNonNull(result, "result");
        String handle = null;
        var shown = result;
        var budget = budget();
        if (!ContextTools.NAMES.contains(call.function().name()) && Tokens.count(result) > budget.part()) {
            handle = store.putOutput(jobId, result);
            // Without the recall tool (a small window) the model is not pointed at it.
            var marker = offer(budget).recall() ? OUT_OF_LINE.replace("%s", handle) : SHORTENED;
            shown = Tokens.shorten(result, budget.part(), marker);
        }
        var entry = new LinkedHashMap<String, Object>();
        entry.put("kind", "tool");
        entry.put("step", step);
        entry.put("tool_call_id", call.id());
        entry.put("content", shown);
        if (handle != null) {
            entry.put("output", handle);
        }
        var turn = turns.get(turns.size() - 1);
        var verdict = stuck.record(call.function().name(), call.function().arguments(), result);
        var note = verdict instanceof StuckDetector.Verdict.Repeating repeating
                ? "\n[This exact call has now returned the same result " + repeating.times()
                        + " times. Repeating it will not help: try something else.]"
                : "";
        if (!note.isEmpty()) {
            entry.put("note", note);
        }
        record(entry);
        indexResult(turn, call, result, handle);
        turn.answer(call.id(), shown + note);
        noteFinish(call, result);
        var arguments = call.function().arguments();
        return new Answer(shown + note, verdict instanceof StuckDetector.Verdict.Stuck stuckCall
                ? "stuck: the model made the same call " + stuckCall.times() + " times with the same result: "
                        + call.function().name() + " " + (arguments.length() > 300 ? arguments.substring(0, 300) + "…" : arguments)
                : null);
    }

    /** Answers a recall or notes call. */
    public String run(ContextCall call) {
        return switch (call) {
            case ContextCall.Search search -> search(search);
            case ContextCall.Read read -> read(read);
            case ContextCall.Notes write -> writeNotes(write);
        };
    }

    /** The size a workspace file had when recall indexed it; -1 if it never did. */
    public long indexedFileSize(String path) {
        return indexedFiles.getOrDefault(path, -1L);
    }

    /** Makes recall find a workspace file's current text (read from the sandbox by the caller). */
    public void indexFile(String path, long size, String text) {
        recall.replaceFile(requireNonNull(path, "path"), requireNonNull(text, "text"));
        indexedFiles.put(path, size);
    }

    /**
     * A request within the budget. The tools offered are those that fit in a third of it, the most
     * needed first. When the verbatim turns do not fit, the oldest are condensed (a model call; at
     * most {@value #MAX_CONDENSING_CALLS} per request, then they are dropped with a note) so the
     * newest fit in half the room; a newest turn too big on its own is shown smaller.
     *
     * @throws BudgetTooSmallException when the budget cannot hold the system prompt, tools and task
     */
    public Prompt prompt() throws BudgetTooSmallException {
        for (int attempt = 0; ; attempt++) {
            var budget = budget();
            var offer = offer(budget);
            var task = task(budget, offer.recall());
            var context = contextMessage(budget);
            int fixed = MessageTokens.count(offer.system()) + MessageTokens.count(task) + offer.tokens()
                    + MessageTokens.REPLY_PRIMING + budget.safety() + (context == null ? 0 : MessageTokens.count(context));
            int room = budget.total() - fixed;
            if (room <= 16) {
                throw new BudgetTooSmallException("the prompt budget of " + total + " tokens (" + budget.total()
                        + " as this side counts them for " + profile.model() + ") cannot hold the system prompt, the tools,"
                        + " the task, the summary and the notes (" + fixed + " tokens): give the model a larger context window");
            }
            int verbatim = 0;
            for (int i = condensed; i < turns.size(); i++) {
                verbatim += turns.get(i).render(budget.part()).tokens();
            }
            if (verbatim <= room) {
                return assemble(offer, task, context, fixed, budget.part(), budget);
            }
            if (turns.size() - condensed <= 1) {
                var newest = turns.get(turns.size() - 1);
                int parts = 1 + 2 * newest.calls().size();
                return assemble(offer, task, context, fixed, Math.max(16, (room - newest.extraTokens() - 16 * parts) / parts), budget);
            }
            int keepFrom = keepFrom(room / 2, budget);
            var older = turns.subList(condensed, keepFrom);
            summary = attempt < MAX_CONDENSING_CALLS ? condenser.condense(summary, older, budget)
                    : condenser.dropped(summary, older, "", budget);
            condensed = keepFrom;
            store.saveSummary(jobId, summary, condensed);
        }
    }

    /**
     * A built request.
     *
     * @param messages the conversation to send
     * @param tools the tools to offer with it, exactly those {@code tokens} counts
     * @param tokens its size by this side's count (the server's is about {@link ModelProfile#scale} of it)
     */
    public record Prompt(List<ChatCompletionMessageParam> messages, List<ChatCompletionTool> tools, int tokens) {}

    /** The budget in this side's tokens: the server's budget divided by how many of its tokens one of ours is worth. */
    private ContextBudget budget() {
        return new ContextBudget(Math.max(1, (int) Math.floor(total / profile.ratio())));
    }

    /** The tools offered and the system prompt that goes with them. */
    private record Offer(int room, List<ChatCompletionTool> tools, int tokens, ChatCompletionMessageParam system, boolean recall) {}

    /**
     * The tools that fit in the budget's share, in the catalogue's order of need; the first two
     * (running commands and finishing) are always offered. The guide to the managed context is
     * given only when its tools (recall, notes) are offered.
     */
    private Offer offer(ContextBudget budget) {
        int room = budget.tools();
        if (offer != null && offer.room() == room) {
            return offer;
        }
        var offered = new ArrayList<ChatCompletionTool>();
        int used = 0;
        for (int i = 0; i < tools.size(); i++) {
            if (offered.size() < 2 || used + toolSizes[i] <= room) {
                offered.add(tools.get(i));
                used += toolSizes[i];
            }
        }
        var names = offered.stream().map(tool -> tool.asFunction().function().name()).toList();
        var guide = names.containsAll(ContextTools.NAMES) ? GUIDE : "";
        var system = ChatCompletionMessageParam.ofSystem(ChatCompletionSystemMessageParam.builder().content(systemPrompt + guide).build());
        offer = new Offer(room, List.copyOf(offered), offered.isEmpty() ? 0 : MessageTokens.countTools(offered), system,
                names.contains("recall"));
        return offer;
    }

    private ChatCompletionMessageParam task(ContextBudget budget, boolean recall) {
        if (task == null || taskLimit != budget.task()) {
            taskLimit = budget.task();
            task = user(Tokens.shorten(taskText, taskLimit, recall
                    ? "\n[... %d characters of the task not shown; recall searches the whole task ...]\n"
                    : "\n[... %d characters of the task not shown ...]\n"));
        }
        return task;
    }

    private Prompt assemble(Offer offer, ChatCompletionMessageParam task, @Nullable ChatCompletionMessageParam context, int fixed,
            int newestLimit, ContextBudget budget) {
        var messages = new ArrayList<ChatCompletionMessageParam>();
        messages.add(offer.system());
        messages.add(task);
        if (context != null) {
            messages.add(context);
        }
        int tokens = fixed;
        for (int i = condensed; i < turns.size(); i++) {
            var rendered = turns.get(i).render(i == turns.size() - 1 ? newestLimit : budget.part());
            messages.addAll(rendered.messages());
            tokens += rendered.tokens();
        }
        return new Prompt(List.copyOf(messages), offer.tools(), tokens);
    }

    /** The first turn to keep verbatim so the kept ones take at most {@code room}; at least one is condensed, the newest never. */
    private int keepFrom(int room, ContextBudget budget) {
        int used = 0;
        int from = turns.size();
        while (from > condensed) {
            int tokens = turns.get(from - 1).render(budget.part()).tokens();
            if (used + tokens > room) {
                break;
            }
            used += tokens;
            from--;
        }
        return Math.max(condensed + 1, Math.min(from, turns.size() - 1));
    }

    /** The summary and the notes, each within its share (which shrinks when the model's ratio grows). */
    private @Nullable ChatCompletionMessageParam contextMessage(ContextBudget budget) {
        if (summary.isEmpty() && notes.isEmpty()) {
            return null;
        }
        var text = new StringBuilder();
        if (!summary.isEmpty()) {
            text.append("Summary of the earlier steps (condensed; recall finds their details):\n")
                    .append(Tokens.shorten(summary, budget.summary(), "\n[...]\n"));
        }
        if (!notes.isEmpty()) {
            text.append(text.isEmpty() ? "" : "\n\n").append("Your notes:\n").append(Tokens.shorten(notes, budget.notes(), "\n[...]\n"));
        }
        return user(text.toString());
    }

    private String search(ContextCall.Search search) {
        var budget = budget();
        var hits = recall.search(search.query(), search.handle(), 20);
        if (hits.isEmpty()) {
            return "nothing found for: " + search.query();
        }
        var answer = new StringBuilder();
        int used = 0;
        for (var hit : hits) {
            var snippet = "[" + hit.where() + "]\n" + Tokens.shorten(hit.text(), budget.recall() / 2, "\n[...]\n") + "\n";
            int tokens = Tokens.count(snippet);
            if (used + tokens > budget.recall()) {
                break;
            }
            answer.append(snippet);
            used += tokens;
        }
        return answer.isEmpty() ? "nothing found for: " + search.query() : answer.toString().strip();
    }

    private String read(ContextCall.Read read) {
        var output = store.output(jobId, read.handle());
        if (output.isEmpty()) {
            return "error: there is no stored output " + read.handle();
        }
        var text = output.get();
        if (read.offset() >= text.length()) {
            return "error: output " + read.handle() + " has " + text.length() + " characters";
        }
        var page = Tokens.head(text.substring(read.offset()), Math.max(16, budget().recall() - 40));
        int end = read.offset() + page.length();
        return page + "\n[characters " + read.offset() + " to " + end + " of " + text.length()
                + (end < text.length() ? "; read on with offset " + end : "") + "]";
    }

    private String writeNotes(ContextCall.Notes write) {
        var next = write.append() && !notes.isEmpty() ? notes + "\n" + write.text() : write.text();
        int tokens = Tokens.count(next);
        int limit = budget().notes();
        if (tokens > limit) {
            return "error: notes are limited to " + limit + " tokens; these would be " + tokens
                    + ". Shorten them (mode replace).";
        }
        notes = next;
        store.saveNotes(jobId, notes);
        return "notes saved (" + tokens + " of " + limit + " tokens)";
    }

    private void remember(int step, ChatCompletionMessage reply) {
        var turn = new Turn(step, reply);
        turns.add(turn);
        reply.content().filter(text -> !text.isBlank()).ifPresent(text -> recall.add("step " + step + ", your words", null, text));
        for (var call : turn.calls()) {
            if (!ContextTools.NAMES.contains(call.function().name())) {
                indexArguments(step, call);
            }
        }
    }

    private void learn(Turn turn, ChatCompletionMessageFunctionToolCall call, String whole, String shown,
            @Nullable String handle, String note) {
        stuck.record(call.function().name(), call.function().arguments(), whole);
        indexResult(turn, call, whole, handle);
        turn.answer(call.id(), shown + note);
        noteFinish(call, whole);
    }

    private void noteFinish(ChatCompletionMessageFunctionToolCall call, String result) {
        if (call.function().name().equals("finish") && result.equals("ok")) {
            try {
                finished = JSON.readTree(call.function().arguments()).path("summary").asText("");
            } catch (JsonProcessingException e) {
                finished = "";
            }
        }
    }

    /** Each string argument on its own, so a file written is searchable as the file, not as JSON. */
    private void indexArguments(int step, ChatCompletionMessageFunctionToolCall call) {
        var name = call.function().name();
        JsonNode args;
        try {
            args = JSON.readTree(call.function().arguments());
        } catch (JsonProcessingException e) {
            recall.add("step " + step + ", " + name + " call", null, call.function().arguments());
            return;
        }
        var path = args.path("path").asText("");
        args.fields().forEachRemaining(field -> {
            if (field.getValue().isTextual() && !field.getValue().asText().isBlank()) {
                recall.add("step " + step + ", " + name + " " + field.getKey() + (path.isEmpty() ? "" : " of " + path),
                        null, field.getValue().asText());
            }
        });
    }

    private void indexResult(Turn turn, ChatCompletionMessageFunctionToolCall call, String whole, @Nullable String handle) {
        var name = call.function().name();
        if (ContextTools.NAMES.contains(name) || whole.isBlank()) {
            return;
        }
        recall.add("step " + turn.step() + ", result of " + name + (handle == null ? "" : " (output " + handle + ")"),
                handle, whole);
    }

    private void record(Map<String, Object> entry) {
        try {
            store.appendTranscript(jobId, JSON.writeValueAsString(entry));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot record a transcript entry", e);
        }
    }

    private static ChatCompletionMessageParam user(String text) {
        return ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder().content(text).build());
    }

    @Override
    public void close() {
        recall.close();
    }
}
