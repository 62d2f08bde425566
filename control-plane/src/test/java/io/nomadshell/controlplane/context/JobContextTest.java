package io.nomadshell.controlplane.context;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.ToolCatalogue;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.store.ContextStore;
import io.nomadshell.controlplane.store.EmbeddedRedis;
import io.nomadshell.controlplane.store.RedisConnection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job's context against a real Redis: budget, pairing, out-of-line outputs, recall, notes, resume. */
class JobContextTest {
    private static final Encoding O200K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    private static final int BUDGET = 8_192;
    private static final List<ChatCompletionTool> TOOLS = ToolCatalogue.definitions();

    @TempDir
    static Path dir;
    static EmbeddedRedis redis;
    static RedisConnection connection;
    static ContextStore store;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = EmbeddedRedis.start(dir.resolve("redis"));
        connection = RedisConnection.connect(redis.url(), "test");
        store = new ContextStore(connection);
    }

    @AfterAll
    static void stopRedis() {
        connection.close();
        redis.close();
    }

    @Test
    void everyPromptOfALongJobFitsTheBudgetAndKeepsEachCallWithItsResult() {
        var jobId = JobIds.next();
        var summaries = new AtomicInteger();
        var contexts = new JobContexts(store, BUDGET, TOOLS, AgentLoop.SYSTEM_PROMPT);
        try (var context = contexts.open(jobId, "Build a big thing", messages -> {
            assertThat(independentCount(messages, List.of())).as("the condensing request").isLessThanOrEqualTo(BUDGET);
            return "summary number " + summaries.incrementAndGet();
        })) {
            for (int step = 1; step <= 80; step++) {
                var prompt = context.prompt();
                assertThat(independentCount(prompt.messages(), TOOLS)).as("step %d", step)
                        .isLessThanOrEqualTo(prompt.tokens()).isLessThanOrEqualTo(BUDGET);
                assertPaired(prompt.messages());
                var call = call("c" + step, "exec", "{\"command\":\"make step" + step + "\"}");
                context.addAssistant(step, assistant("Step " + step + ".", call));
                context.addResult(step, call, ("output line of step " + step + "\n").repeat(step % 3 == 0 ? 3000 : 20));
            }
            assertThat(summaries.get()).as("older turns were condensed").isPositive();
            var last = context.prompt().messages();
            assertThat(text(last.get(2))).as("the summary is shown after the task").contains("summary number " + summaries.get());
            assertThat(text(last.get(last.size() - 1))).as("the newest result is shown verbatim").contains("output line of step 80");
        }
    }

    @Test
    void aLargeOutputIsShownAsHeadAndTailAndStaysWholeUnderItsHandle() {
        var jobId = JobIds.next();
        var whole = "first line\n" + "x".repeat(30_000) + "\nmiddle fact: the port is 4711\n" + "y".repeat(30_000) + "\nlast line";
        try (var context = open(jobId)) {
            var call = call("c1", "exec", "{\"command\":\"cat big.log\"}");
            context.addAssistant(1, assistant(null, call));
            var shown = context.addResult(1, call, whole).shown();

            assertThat(shown).startsWith("first line").endsWith("last line").contains("stored as o1")
                    .doesNotContain("4711");
            assertThat(O200K.countTokensOrdinary(shown)).isLessThanOrEqualTo(new ContextBudget(BUDGET).part());
            assertThat(store.output(jobId, "o1")).contains(whole);
            var found = context.run(new ContextCall.Search("which port", "o1"));
            assertThat(found).contains("the port is 4711").contains("output o1");
            var page = context.run(new ContextCall.Read("o1", whole.indexOf("middle fact")));
            assertThat(page).startsWith("middle fact: the port is 4711").contains("read on with offset");
            assertThat(context.run(new ContextCall.Read("o99", 0))).startsWith("error: there is no stored output o99");
        }
    }

    @Test
    void recallRanksTheRelevantPassageFirstAmongManyOutputs() {
        var jobId = JobIds.next();
        try (var context = open(jobId)) {
            for (int step = 1; step <= 40; step++) {
                var call = call("c" + step, "exec", "{\"command\":\"run " + step + "\"}");
                context.addAssistant(step, assistant(null, call));
                var output = step == 3
                        ? "compiling\n".repeat(200) + "ERROR: libfoo.so.3 was not found in /opt/vendor/lib\n" + "linking\n".repeat(200)
                        : ("compiling module " + step + "\n").repeat(400);
                context.addResult(step, call, output);
            }
            var answer = context.run(new ContextCall.Search("libfoo not found", null));
            assertThat(answer).startsWith("[step 3, result of exec").contains("libfoo.so.3 was not found");
            assertThat(O200K.countTokensOrdinary(answer)).isLessThanOrEqualTo(new ContextBudget(BUDGET).recall());
            assertThat(context.run(new ContextCall.Search("zebra", null))).isEqualTo("nothing found for: zebra");
        }
    }

    @Test
    void notesArePinnedInEveryPromptAndBounded() {
        var jobId = JobIds.next();
        try (var context = open(jobId)) {
            assertThat(context.run(new ContextCall.Notes("plan: 1. parser 2. tests", false))).startsWith("notes saved");
            assertThat(context.run(new ContextCall.Notes("decided: use sqlite", true))).startsWith("notes saved");
            assertThat(context.run(new ContextCall.Notes("word ".repeat(5_000), false))).startsWith("error: notes are limited");

            var prompt = context.prompt().messages();
            assertThat(text(prompt.get(2))).contains("plan: 1. parser 2. tests\ndecided: use sqlite");
        }
        try (var reopened = open(jobId)) {
            assertThat(text(reopened.prompt().messages().get(2))).as("notes survive a restart").contains("decided: use sqlite");
        }
    }

    @Test
    void aFailingSummaryCallDropsOldTurnsWithANoteAndStaysWithinBudget() {
        var jobId = JobIds.next();
        var contexts = new JobContexts(store, BUDGET, TOOLS, AgentLoop.SYSTEM_PROMPT);
        try (var context = contexts.open(jobId, "task", messages -> {
            throw new IllegalStateException("model down");
        })) {
            for (int step = 1; step <= 30; step++) {
                var prompt = context.prompt();
                assertThat(independentCount(prompt.messages(), TOOLS)).isLessThanOrEqualTo(BUDGET);
                var call = call("c" + step, "exec", "{}");
                context.addAssistant(step, assistant(null, call));
                context.addResult(step, call, ("line " + step + "\n").repeat(400));
            }
            assertThat(text(context.prompt().messages().get(2))).contains("could not be summarized; the recall tool searches them");
        }
    }

    @Test
    void aReopenedContextGoesOnFromItsTranscriptAndAnswersAnInterruptedCallAsLost() {
        var jobId = JobIds.next();
        var done = call("a", "exec", "{\"command\":\"echo done\"}");
        var interrupted = call("b", "exec", "{\"command\":\"sleep 100\"}");
        try (var context = open(jobId)) {
            context.addAssistant(1, assistant("first", call("z", "exec", "{}")));
            context.addResult(1, call("z", "exec", "{}"), "ok");
            context.addAssistant(2, assistant("two calls", done, interrupted));
            context.addResult(2, done, "done");
        }
        try (var reopened = open(jobId)) {
            assertThat(reopened.lastStep()).isEqualTo(2);
            assertThat(reopened.finished()).isEmpty();
            var messages = reopened.prompt().messages();
            assertPaired(messages);
            assertThat(text(messages.get(messages.size() - 1))).isEqualTo(JobContext.LOST);
        }
        try (var again = open(jobId)) {
            var messages = again.prompt().messages();
            assertThat(messages.stream().filter(m -> text(m).equals(JobContext.LOST)).count())
                    .as("the lost answer was recorded once, not again on each reopening").isEqualTo(1);
            var finish = call("f", "finish", "{\"summary\":\"all built\"}");
            again.addAssistant(3, assistant(null, finish));
            again.addResult(3, finish, "ok");
        }
        try (var finished = open(jobId)) {
            assertThat(finished.finished()).contains("all built");
        }
    }

    @Test
    void theSameCallWithTheSameResultIsPointedOutThenStopsTheJob() {
        try (var context = open(JobIds.next())) {
            String stuck = null;
            var shown = new ArrayList<String>();
            for (int step = 1; step <= 5; step++) {
                var call = call("c" + step, "exec", "{\"command\":\"ls\"}");
                context.addAssistant(step, assistant(null, call));
                var answer = context.addResult(step, call, "a.txt");
                shown.add(answer.shown());
                stuck = answer.stuck();
            }
            assertThat(shown.get(1)).isEqualTo("a.txt");
            assertThat(shown.get(2)).contains("returned the same result 3 times");
            assertThat(stuck).isEqualTo("stuck: the model made the same call 5 times with the same result: exec {\"command\":\"ls\"}");
        }
    }

    private static JobContext open(String jobId) {
        return new JobContexts(store, BUDGET, TOOLS, AgentLoop.SYSTEM_PROMPT).open(jobId, "Build a big thing", messages -> "a summary");
    }

    static ChatCompletionMessageFunctionToolCall call(String id, String name, String arguments) {
        return ChatCompletionMessageFunctionToolCall.builder().id(id)
                .function(ChatCompletionMessageFunctionToolCall.Function.builder().name(name).arguments(arguments).build())
                .build();
    }

    static ChatCompletionMessage assistant(String text, ChatCompletionMessageFunctionToolCall... calls) {
        var builder = ChatCompletionMessage.builder().content(Optional.ofNullable(text)).refusal(Optional.empty());
        for (var call : calls) {
            builder.addToolCall(call);
        }
        return builder.build();
    }

    /** The scripted model's way of counting: the texts of the messages, the calls' arguments, the tools' JSON. */
    static int independentCount(List<ChatCompletionMessageParam> messages, List<ChatCompletionTool> tools) {
        var json = ObjectMappers.jsonMapper();
        int tokens = 0;
        for (var message : messages) {
            JsonNode node = json.valueToTree(message);
            tokens += O200K.countTokensOrdinary(textOf(node.get("content")));
            for (var call : node.path("tool_calls")) {
                tokens += O200K.countTokensOrdinary(call.path("function").path("arguments").asText());
            }
        }
        if (!tools.isEmpty()) {
            tokens += O200K.countTokensOrdinary(json.valueToTree(tools).toString());
        }
        return tokens;
    }

    /** The rule the real API enforces: each call answered right after its message, each answer to a call. */
    static void assertPaired(List<ChatCompletionMessageParam> messages) {
        var open = new HashSet<String>();
        for (var message : messages) {
            if (message.isTool()) {
                assertThat(open.remove(message.asTool().toolCallId())).as("a tool result follows its call").isTrue();
                continue;
            }
            assertThat(open).as("every call was answered before the next message").isEmpty();
            if (message.isAssistant()) {
                message.asAssistant().toolCalls().ifPresent(calls -> calls.forEach(c -> open.add(c.asFunction().id())));
            }
        }
        assertThat(open).isEmpty();
    }

    private static String text(ChatCompletionMessageParam message) {
        return textOf(ObjectMappers.jsonMapper().valueToTree(message).get("content"));
    }

    private static String textOf(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.textValue();
        }
        var text = new StringBuilder();
        content.forEach(part -> text.append(part.path("text").asText("")));
        return text.toString();
    }
}
