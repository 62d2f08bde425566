package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.Route;
import com.microsoft.playwright.options.WaitForSelectorState;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web UI in a real browser (Debian's Chromium, headless, driven by Playwright): type the API key,
 * submit a task, watch its events arrive live until it completes, find it in the job list, and
 * download the zip. Leaves a screenshot of the job page in target/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebUiTest {
    private static final String KEY = "browser-key";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private ScriptedModelServer model;
    private TestCluster cluster;
    private Playwright playwright;
    private Browser browser;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Scenario.bundled("hello-world")).build().start();
        cluster = TestCluster.start(dataDir, model.baseUrl(), 2, ApiKeys.of(Set.of(KEY)));
        playwright = Playwright.create(new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
        browser = playwright.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(CHROMIUM)
                .setHeadless(true)
                .setArgs(List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync")));
    }

    @AfterAll
    void stop() {
        if (browser != null) browser.close();
        if (playwright != null) playwright.close();
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    @Test
    void submitWatchAndDownloadInTheBrowser(@TempDir Path downloads) throws Exception {
        try (var context = browser.newContext(new Browser.NewContextOptions().setAcceptDownloads(true)
                .setViewportSize(1200, 900))) {
            var page = context.newPage();
            page.navigate(cluster.baseUrl() + "/");
            assertThat(page.url()).endsWith("/ui/");

            page.locator("#api-key").fill(KEY);
            page.locator("#api-key").dispatchEvent("change");
            page.locator("#task").fill(Fixtures.HELLO_TASK);
            page.locator("#submit-form button").click();

            page.waitForURL("**/ui/#/jobs/*");
            var jobId = page.url().substring(page.url().lastIndexOf('/') + 1);
            var status = page.locator("#job-status");
            status.filter(new Locator.FilterOptions().setHasText("complete"))
                    .waitFor(new Locator.WaitForOptions().setTimeout(90_000));

            // The live log shows the whole story, in order, each event once (the pieces of an answer as
            // it streamed grow its one bubble, which is numbered by the whole answer's event).
            page.locator("#events li.artifact_ready").waitFor(new Locator.WaitForOptions().setTimeout(30_000));
            var sequences = page.locator("#events li").evaluateAll("items => items.map(i => Number(i.dataset.sequence))");
            @SuppressWarnings("unchecked")
            var numbers = ((List<Number>) sequences).stream().map(Number::longValue).toList();
            var history = Sse.read(cluster.baseUrl() + "/v1/jobs/" + jobId + "/events",
                    Map.of("Authorization", "Bearer " + KEY), events -> false, Duration.ofSeconds(10)).events().stream()
                    .filter(event -> !event.id().isEmpty()).toList();
            assertThat(numbers).as("events %s", history).isSorted().doesNotHaveDuplicates().startsWith(1L)
                    .hasSize((int) history.stream().filter(event -> !event.event().equals("assistant_delta")).count());
            assertThat(page.locator("#events li.tool_started").count()).isPositive();
            assertThat(page.locator("#events li.status_changed").last().textContent()).contains("complete");
            assertThat(page.locator("#job-task").textContent()).isEqualTo(Fixtures.HELLO_TASK);

            var screenshot = Path.of("target", "web-ui-job.png");
            Files.createDirectories(screenshot.getParent());
            page.screenshot(new Page.ScreenshotOptions().setPath(screenshot).setFullPage(true));

            var download = page.waitForDownload(() -> page.locator("#download").click());
            assertThat(download.suggestedFilename()).isEqualTo(jobId + ".zip");
            var zip = downloads.resolve("job.zip");
            download.saveAs(zip);
            assertThat(Fixtures.unzip(Files.readAllBytes(zip))).containsExactlyInAnyOrderEntriesOf(Map.of(
                    "hello.py", Fixtures.HELLO_PY,
                    "README.md", Fixtures.HELLO_README));

            // The job list knows it too.
            page.locator("header h1 a").click();
            var row = page.locator("#jobs tr[data-job-id='" + jobId + "']");
            row.waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
            assertThat(row.locator(".status").textContent()).isEqualTo("complete");
        }
    }

    /**
     * The answer as it streams: the page is given a job's events (Playwright answers its API calls),
     * broken off mid-answer and resumed with Last-Event-ID, as a real stream may be.
     */
    @Test
    void anAnswerGrowsAsItStreamsAndTheWholeAnswerReplacesIt() {
        var jobId = "jstreamingjobxxxxxxx";
        var resumeFrom = new ArrayList<String>();
        var released = new AtomicBoolean();
        try (var context = browser.newContext()) {
            var page = context.newPage();
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "$"), route -> route.fulfill(new Route.FulfillOptions()
                    .setStatus(200).setContentType("application/json")
                    .setBody("{\"job_id\":\"" + jobId + "\",\"status\":\"running\",\"task\":\"Say hello\"}")));
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "/events$"), route -> {
                var after = route.request().headers().getOrDefault("last-event-id", "0");
                resumeFrom.add(after);
                String body;
                if (after.equals("0")) {
                    // Breaks off in the middle of step 1's answer.
                    body = sse(1, "status_changed", "{\"status\":\"running\"}")
                            + sse(2, "assistant_delta", "{\"step\":1,\"text\":\"Hello, \"}")
                            + sse(3, "assistant_delta", "{\"step\":1,\"text\":\"wor\"}");
                } else if (!released.get()) {
                    body = ": keepalive\n\n"; // nothing new yet: the page reconnects from the same event
                } else {
                    body = sse(4, "assistant_delta", "{\"step\":1,\"text\":\"ld\"}")
                            + sse(5, "assistant_message", "{\"step\":1,\"text\":\"Hello, world!\"}")
                            + sse(6, "tool_started", "{\"tool\":\"exec\",\"arguments\":\"{}\"}")
                            + sse(7, "assistant_message", "{\"step\":2,\"text\":\"Step two, whole.\"}")
                            + "event: end\ndata: {}\n\n";
                }
                route.fulfill(new Route.FulfillOptions().setStatus(200).setContentType("text/event-stream").setBody(body));
            });
            page.navigate(cluster.baseUrl() + "/ui/#/jobs/" + jobId);

            var bubble = page.locator("#events li.assistant_message").first();
            bubble.filter(new Locator.FilterOptions().setHasText("Hello, wor"))
                    .waitFor(new Locator.WaitForOptions().setTimeout(10_000));
            assertThat(bubble.getAttribute("class")).contains("streaming");
            assertThat(page.locator("#events li").count()).as("one bubble for the step's pieces").isEqualTo(2);
            released.set(true);

            page.locator("#events li.tool_started").waitFor(new Locator.WaitForOptions().setTimeout(10_000));
            page.locator("#events li").nth(3).waitFor(new Locator.WaitForOptions().setTimeout(10_000));
            assertThat(page.locator("#events li.assistant_message .text").allTextContents())
                    .containsExactly("Hello, world!", "Step two, whole.");
            assertThat(bubble.getAttribute("class")).doesNotContain("streaming");
            var sequences = page.locator("#events li").evaluateAll("items => items.map(i => i.dataset.sequence)");
            assertThat(sequences).isEqualTo(List.of("1", "5", "6", "7"));
            assertThat(resumeFrom).first().isEqualTo("0");
            assertThat(resumeFrom.subList(1, resumeFrom.size())).isNotEmpty().allMatch("3"::equals);
        }
    }

    /**
     * A paused job's page (Playwright answers its API calls as the server's session API would; a
     * screenshot is left in target/): the paused status, the user's message, a checkpoint and a rollback in the timeline; Resume but no
     * Pause; a message the server refuses shows its words, one it takes empties the box; Roll back
     * here and Fork from here send their step, and the fork's page is where the browser goes.
     */
    @Test
    void aPausedJobIsToldSomethingResumedRolledBackAndForked() {
        var jobId = "jpausedjobxxxxxxxxxx";
        var forkId = "jforkedjobxxxxxxxxxx";
        var posted = new CopyOnWriteArrayList<String>();
        var refuseMessage = new AtomicBoolean(true);
        try (var context = browser.newContext()) {
            var page = context.newPage();
            page.onDialog(dialog -> dialog.accept());
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "$"), route -> json(route, 200,
                    "{\"job_id\":\"" + jobId + "\",\"status\":\"paused\",\"task\":\"Build a todo app\","
                            + "\"steps\":2,\"checkpoint_step\":2}"));
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "/checkpoints$"), route -> json(route, 200,
                    "{\"checkpoints\":[{\"step\":0,\"commit\":\"c0\",\"files\":1,\"created_at\":\"2026-12-07T19:00:00Z\"},"
                            + "{\"step\":2,\"commit\":\"c2\",\"files\":4,\"created_at\":\"2026-12-07T19:01:00Z\"}]}"));
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "/events$"), route -> {
                var after = route.request().headers().getOrDefault("last-event-id", "0");
                // A paused job's stream stays open: after the replay, nothing new.
                var body = after.equals("0")
                        ? sse(1, "status_changed", "{\"status\":\"running\"}")
                                + sse(2, "user_message", "{\"text\":\"Use SQLite\"}")
                                + sse(3, "assistant_message", "{\"step\":1,\"text\":\"Switching to SQLite.\"}")
                                + sse(4, "checkpointed", "{\"step\":2,\"files\":4}")
                                + sse(5, "rolled_back", "{\"step\":1}")
                                + sse(6, "status_changed", "{\"status\":\"paused\"}")
                        : ": keepalive\n\n";
                route.fulfill(new Route.FulfillOptions().setStatus(200).setContentType("text/event-stream").setBody(body));
            });
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "(/messages|:resume|:rollback|:fork)$"), route -> {
                var action = route.request().url().replaceFirst(".*/v1/jobs/" + jobId, "");
                posted.add(action + " " + route.request().postData());
                if (action.equals("/messages") && refuseMessage.getAndSet(false)) {
                    json(route, 409, "{\"code\":9,\"message\":\"the job is being rolled back; say it again once it is paused\"}");
                } else if (action.equals(":fork")) {
                    json(route, 200, "{\"job_id\":\"" + forkId + "\",\"status\":\"pending\"}");
                } else {
                    json(route, 200, "{\"job_id\":\"" + jobId + "\",\"status\":\"paused\"}");
                }
            });
            page.route(Pattern.compile(".*/v1/jobs/" + forkId + "$"), route -> json(route, 200,
                    "{\"job_id\":\"" + forkId + "\",\"status\":\"pending\",\"task\":\"Build a todo app\","
                            + "\"forked_from\":\"" + jobId + "\"}"));
            page.navigate(cluster.baseUrl() + "/ui/#/jobs/" + jobId);

            page.locator("#events li.status_changed").nth(1).waitFor(new Locator.WaitForOptions().setTimeout(10_000));
            page.locator("#checkpoints tbody tr").nth(1).waitFor(new Locator.WaitForOptions().setTimeout(10_000));
            assertThat(page.locator("#job-status").getAttribute("class")).isEqualTo("status paused");
            assertThat(page.locator("#job-meta").textContent()).endsWith("· checkpoint after step 2");
            assertThat(page.locator("#events li.user_message .text").textContent()).isEqualTo("you: Use SQLite");
            assertThat(page.locator("#events li.checkpointed .text").textContent())
                    .isEqualTo("◆ checkpoint after step 2 (4 files)");
            assertThat(page.locator("#events li.rolled_back .text").textContent()).startsWith("↺ rolled back to after step 1");
            assertThat(page.locator("#resume").isVisible()).isTrue();
            assertThat(page.locator("#pause").isVisible()).isFalse();
            assertThat(page.locator("#previews").isVisible()).as("a paused job has no sandbox to open").isFalse();
            assertThat(page.locator("#checkpoints tbody tr td:first-child").allTextContents())
                    .containsExactly("before the first step", "after step 2");

            page.screenshot(new Page.ScreenshotOptions().setPath(Path.of("target", "web-ui-paused-job.png")).setFullPage(true));

            // The server refuses the first message: its words are shown, the text stays to send again.
            page.locator("#message").fill("Add a README");
            page.locator("#message-form button").click();
            var refused = page.locator("#message-error").filter(new Locator.FilterOptions().setHasText("rolled back"));
            refused.waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
            assertThat(page.locator("#message").inputValue()).isEqualTo("Add a README");
            page.locator("#message-form button").click();
            page.waitForCondition(() -> page.locator("#message").inputValue().isEmpty(),
                    new Page.WaitForConditionOptions().setTimeout(10_000));
            assertThat(page.locator("#message-error").isVisible()).isFalse();

            page.locator("#resume").click();
            page.locator("#checkpoints tr[data-step='2'] button.rollback").click();
            page.waitForCondition(() -> posted.size() == 4, new Page.WaitForConditionOptions().setTimeout(10_000));
            page.locator("#checkpoints tr[data-step='0'] button.fork").click();
            page.waitForURL("**/ui/#/jobs/" + forkId, new Page.WaitForURLOptions().setTimeout(10_000));
            assertThat(posted).containsExactly(
                    "/messages {\"text\":\"Add a README\"}",
                    "/messages {\"text\":\"Add a README\"}",
                    ":resume {}",
                    ":rollback {\"step\":2}",
                    ":fork {\"step\":0}");
            var origin = page.locator("#job-origin-link");
            origin.waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
            assertThat(origin.textContent()).isEqualTo(jobId);
            assertThat(page.locator("#job-origin").textContent()).isEqualTo("Forked from " + jobId + " before the first step");
        }
    }

    /** A status this page does not know (a newer server's) is shown as it is, and offers neither Pause nor Resume. */
    @Test
    void anUnknownStatusDoesNotBreakThePage() {
        var jobId = "jnewerstatusxxxxxxxx";
        try (var context = browser.newContext()) {
            var page = context.newPage();
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "$"), route -> json(route, 200,
                    "{\"job_id\":\"" + jobId + "\",\"status\":\"waiting\",\"task\":\"Ask me first\"}"));
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "/checkpoints$"), route -> json(route, 404,
                    "{\"code\":5,\"message\":\"not found\"}"));
            page.route(Pattern.compile(".*/v1/jobs/" + jobId + "/events$"), route -> route.fulfill(
                    new Route.FulfillOptions().setStatus(200).setContentType("text/event-stream")
                            .setBody(route.request().headers().getOrDefault("last-event-id", "0").equals("0")
                                    ? sse(1, "status_changed", "{\"status\":\"waiting\"}")
                                            + sse(2, "question_asked", "{\"text\":\"Which database?\"}")
                                    : ": keepalive\n\n")));
            page.navigate(cluster.baseUrl() + "/ui/#/jobs/" + jobId);

            page.locator("#events li").nth(1).waitFor(new Locator.WaitForOptions().setTimeout(10_000));
            page.locator("#message-form").waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE)
                    .setTimeout(10_000));
            assertThat(page.locator("#job-status").textContent()).isEqualTo("waiting");
            assertThat(page.locator("#events li .text").allTextContents()).containsExactly("● waiting", "question_asked");
            assertThat(page.locator("#pause").isVisible()).isFalse();
            assertThat(page.locator("#resume").isVisible()).isFalse();
            assertThat(page.locator("#cancel").isVisible()).isTrue();
            assertThat(page.locator("#checkpoints-section").isVisible()).isFalse();
            assertThat(page.locator("#job-error").isVisible()).isFalse();
        }
    }

    private static void json(Route route, int status, String body) {
        route.fulfill(new Route.FulfillOptions().setStatus(status).setContentType("application/json").setBody(body));
    }

    private static String sse(long sequence, String kind, String body) {
        return "id: " + sequence + "\nevent: " + kind + "\ndata: {\"job_id\":\"j\",\"sequence\":\"" + sequence
                + "\",\"" + kind + "\":" + body + "}\n\n";
    }

    @Test
    void aWrongKeyIsShownNotSwallowed() {
        try (var context = browser.newContext()) {
            var page = context.newPage();
            page.navigate(cluster.baseUrl() + "/ui/");
            page.locator("#api-key").fill("not-the-key");
            page.locator("#api-key").dispatchEvent("change");
            // First the keyless page load is refused, then the wrong key: the page says which.
            var error = page.locator("#submit-error").filter(new Locator.FilterOptions().setHasText("not valid"));
            error.waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
            assertThat(error.textContent()).isEqualTo("the API key is not valid");
        }
    }
}
