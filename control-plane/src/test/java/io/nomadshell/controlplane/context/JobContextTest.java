package io.nomadshell.controlplane.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.openai.core.ObjectMappers;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionMessage;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.controlplane.agent.AgentLoop;
import io.nomadshell.controlplane.agent.ToolCatalogue;
import io.nomadshell.controlplane.job.JobIds;
import io.nomadshell.controlplane.model.ModelProfile;
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
    void everyPromptOfALongJobFitsTheBudgetAndKeepsEachCallWithItsResult() throws Exception {
        var jobId = JobIds.next();
        var summaries = new AtomicInteger();
        var contexts = contexts(BUDGET, new ModelProfile("test", BUDGET * 2, Optional.empty()));
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
    void aLargeOutputIsShownAsHeadAndTailAndStaysWholeUnderItsHandle() throws Exception {
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
    void recallRanksTheRelevantPassageFirstAmongManyOutputs() throws Exception {
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
    void notesArePinnedInEveryPromptAndBounded() throws Exception {
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
    void aFailingSummaryCallDropsOldTurnsWithANoteAndStaysWithinBudget() throws Exception {
        var jobId = JobIds.next();
        var contexts = contexts(BUDGET, new ModelProfile("test", BUDGET * 2, Optional.empty()));
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
    void aReopenedContextGoesOnFromItsTranscriptAndListsAnInterruptedCallAsUnanswered() throws Exception {
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
            assertThat(reopened.unanswered()).as("the call the stop interrupted").extracting(c -> c.id())
                    .containsExactly("b");
            assertThat(reopened.positionInLastTurn(interrupted)).as("its place, for its call id").isEqualTo(1);
            reopened.addResult(2, interrupted, JobContext.LOST);
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
    void theSameCallWithTheSameResultIsPointedOutThenStopsTheJob() throws Exception {
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

    @Test
    void aWindowOfAThousandTokensOffersTheEssentialToolsAndEveryPromptFits() throws Exception {
        for (int budget : new int[] {1_024, 768}) {
            var contexts = contexts(budget, new ModelProfile("tiny", budget, Optional.empty()));
            try (var context = contexts.open(JobIds.next(), "Write hello.py that prints Hello, then run it", messages -> {
                assertThat(independentCount(messages, List.of())).as("the condensing request").isLessThanOrEqualTo(budget);
                return "the agent wrote and ran files";
            })) {
                for (int step = 1; step <= 30; step++) {
                    var prompt = context.prompt();
                    assertThat(names(prompt.tools())).as("budget %d", budget).startsWith("exec", "finish")
                            .doesNotContain("computer", "run_code", "process");
                    assertThat(MessageTokens.countTools(prompt.tools())).isLessThanOrEqualTo(Math.max(budget / 3,
                            MessageTokens.countTools(TOOLS.subList(0, 2))));
                    assertThat(independentCount(prompt.messages(), prompt.tools())).as("budget %d, step %d", budget, step)
                            .isLessThanOrEqualTo(prompt.tokens()).isLessThanOrEqualTo(budget);
                    assertThat(text(prompt.messages().get(0))).as("no guide to tools that are not offered")
                            .doesNotContain("recall tool");
                    assertPaired(prompt.messages());
                    var call = call("c" + step, "exec", "{\"command\":\"python3 hello.py # " + step + "\"}");
                    context.addAssistant(step, assistant("Running it.", call));
                    context.addResult(step, call, ("Hello from step " + step + "\n").repeat(step % 4 == 0 ? 400 : 3));
                }
            }
        }
        assertThat(names(contexts(1_024, new ModelProfile("tiny", 1_024, Optional.empty())).open(JobIds.next(), "t",
                messages -> "").prompt().tools())).containsExactly("exec", "finish", "write_file");
        assertThat(names(open(JobIds.next()).prompt().tools())).as("a large budget offers every tool")
                .hasSameSizeAs(TOOLS);
    }

    @Test
    void promptsShrinkToTheServersCountOnceCalibrated() throws Exception {
        var profile = new ModelProfile("gemma", BUDGET * 2, Optional.empty());
        var contexts = contexts(BUDGET, profile);
        try (var context = contexts.open(JobIds.next(), "Build a big thing", messages -> "a summary")) {
            for (int step = 1; step <= 40; step++) {
                var prompt = context.prompt();
                // The server counts a quarter more than o200k (as a Gemma tokenizer does): it says so in usage.
                profile.calibrate(prompt.tokens(), (long) Math.ceil(prompt.tokens() * 1.25));
                assertThat(profile.scale(context.prompt().tokens())).as("step %d, in the server's tokens", step)
                        .isLessThanOrEqualTo(BUDGET);
                assertThat(independentCount(context.prompt().messages(), context.prompt().tools()) * 1.25)
                        .isLessThanOrEqualTo(BUDGET);
                var call = call("c" + step, "exec", "{\"command\":\"make step" + step + "\"}");
                context.addAssistant(step, assistant("Step " + step + ".", call));
                context.addResult(step, call, ("output line of step " + step + "\n").repeat(200));
            }
            assertThat(profile.ratio()).isCloseTo(1.25, within(0.01));
            int before = context.prompt().tokens();
            profile.distrust(1.25);
            assertThat(context.prompt().tokens()).as("a request the server refused as too long is built smaller")
                    .isLessThan(before).isLessThanOrEqualTo((int) (BUDGET / profile.ratio()));
        }
    }

    @Test
    void aBudgetThatCannotHoldTheBasicsSaysSo() {
        var contexts = contexts(300, new ModelProfile("tiny", 1_024, Optional.empty()));
        try (var context = contexts.open(JobIds.next(), "task", messages -> "")) {
            assertThatThrownBy(context::prompt).isInstanceOf(BudgetTooSmallException.class)
                    .hasMessageContaining("the prompt budget of 300 tokens").hasMessageContaining("larger context window");
        }
    }

    @Test
    void invalidArgumentsAreNeverReplayedNotEvenFromAnOldTranscript() throws Exception {
        var jobId = JobIds.next();
        var broken = call("c1", "write_file", "{\"path\": \"a.py\", \"content\": \"print(");
        try (var context = open(jobId)) {
            // As a transcript written before calls were repaired holds it.
            context.addAssistant(1, assistant("writing", broken));
            context.addResult(1, broken, "error: the arguments are not valid JSON");
        }
        try (var reopened = open(jobId)) {
            var messages = reopened.prompt().messages();
            assertPaired(messages);
            var calls = messages.get(2).asAssistant().toolCalls().orElseThrow();
            var arguments = calls.get(0).asFunction().function().arguments();
            assertThat(ObjectMappers.jsonMapper().readTree(arguments).path("invalid_arguments").asText())
                    .isEqualTo("{\"path\": \"a.py\", \"content\": \"print(");
        }
    }

    @Test
    void refusedImagesBecomeTheirDescriptions() throws Exception {
        try (var context = open(JobIds.next())) {
            var call = call("c1", "computer", "{\"action\":\"screenshot\"}");
            context.addAssistant(1, assistant(null, call));
            context.addResult(1, call, "took a screenshot");
            context.addImages(ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                    .contentOfArrayOfContentParts(List.of(
                            ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder()
                                    .text("Image 1 of 1 from tool call s1c0: a screenshot of 1280x800").build()),
                            ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                    .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder().url("data:image/png;base64,AAAA").build())
                                    .build())))
                    .build()));
            assertThat(ObjectMappers.jsonMapper().writeValueAsString(context.prompt().messages())).contains("image_url");

            context.dropImages();

            var messages = context.prompt().messages();
            assertThat(ObjectMappers.jsonMapper().writeValueAsString(messages)).doesNotContain("image_url");
            assertThat(text(messages.get(messages.size() - 1)))
                    .isEqualTo("Image 1 of 1 from tool call s1c0: a screenshot of 1280x800\n" + Images.NOT_SHOWN);
        }
    }

    private static List<String> names(List<ChatCompletionTool> tools) {
        return tools.stream().map(tool -> tool.asFunction().function().name()).toList();
    }

    private static JobContexts contexts(int budget, ModelProfile profile) {
        return new JobContexts(store, budget, profile, TOOLS, AgentLoop.SYSTEM_PROMPT);
    }

    private static JobContext open(String jobId) {
        return contexts(BUDGET, new ModelProfile("test", BUDGET * 2, Optional.empty())).open(jobId, "Build a big thing", messages -> "a summary");
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
