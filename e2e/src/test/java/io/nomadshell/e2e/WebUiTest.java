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
