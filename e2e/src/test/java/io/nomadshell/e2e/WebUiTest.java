package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.WaitForSelectorState;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.Scenario;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

            // The live log shows the whole story, in order, each event once.
            page.locator("#events li.artifact_ready").waitFor(new Locator.WaitForOptions().setTimeout(30_000));
            var sequences = page.locator("#events li").evaluateAll("items => items.map(i => Number(i.dataset.sequence))");
            @SuppressWarnings("unchecked")
            var numbers = ((List<Number>) sequences).stream().map(Number::longValue).toList();
            assertThat(numbers).isNotEmpty();
            for (int i = 0; i < numbers.size(); i++) {
                assertThat(numbers.get(i)).as("event %d", i).isEqualTo(i + 1L);
            }
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
