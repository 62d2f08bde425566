package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Playwright;
import com.microsoft.playwright.options.WaitForSelectorState;
import io.nomadshell.gateway.auth.ApiKeys;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Previews in a real browser (Debian's Chromium, headless, driven by Playwright), in the browser
 * where the web UI holds the API key (typed into it first). Job A's sandbox serves a hostile page
 * (scenario preview-attack); opened from the UI on its preview origin, its script tries to read the
 * API's job list and A's and B's events, to get a link for B, to read the UI, to read B's preview, to
 * schedule a job with a cross-site text/plain POST, and to read the key and cookies. It gets nothing
 * and schedules nothing. Jupyter, opened from the UI on its own origin, runs code in the browser
 * with the token the proxy adds, which the browser never sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PreviewIsolationTest {
    private static final String KEY = "preview-browser-key";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final int PAGE_PORT = 18090;
    private final String marker = "marker-" + UUID.randomUUID();
    private final String taskA = "Serve the page of job A " + marker;
    private final String taskB = "Serve the page of job B " + marker;
    private ScriptedModelServer model;
    private TestCluster cluster;
    private Playwright playwright;
    private Browser browser;
    private String jobA;
    private String jobB;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("preview-attack", dataDir, marker)).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 2, ApiKeys.of(Set.of(KEY)));
        jobA = cluster.rest(KEY).schedule(taskA);
        jobB = cluster.rest(KEY).schedule(taskB);
        try (var previews = new PreviewClient(cluster.previewPort())) {
            for (var job : List.of(jobA, jobB)) {
                cluster.rest(KEY).awaitStatus(job, Set.of("running"), Duration.ofSeconds(60));
                awaitServing(previews, job);
            }
        }
        playwright = Playwright.create(new Playwright.CreateOptions().setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
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
        if (cluster != null) {
            for (var job : new String[] {jobA, jobB}) {
                if (job != null) cluster.rest(KEY).post("/v1/jobs/" + job + ":cancel", "application/json", "{}");
            }
            cluster.close();
        }
        if (model != null) model.close();
    }

    @Test
    void aSandboxsPageGetsNothingOfTheApiTheKeyOrOtherJobs() throws Exception {
        try (var context = browser.newContext()) {
            var ui = uiWithKey(context);
            // The owner has B's preview open too: its cookie sits in this browser.
            var pageB = openPort(ui, jobB);
            assertThat(pageB.locator("h1").textContent()).contains(marker);

            var pageA = openPort(ui, jobA);
            assertThat(pageA.url()).as("the link left the address")
                    .isEqualTo(origin(jobA, PAGE_PORT) + "/").doesNotContain("nomad_shell_link");
            pageA.navigate(origin(jobA, PAGE_PORT) + "/index.html?api=" + encode(cluster.baseUrl())
                    + "&a=" + jobA + "&b=" + jobB + "&other=" + encode(origin(jobB, PAGE_PORT) + "/index.html"));
            pageA.waitForFunction("document.title === 'done'", null, new Page.WaitForFunctionOptions().setTimeout(60_000));
            var report = pageA.locator("#report").textContent();

            var json = Rest.JSON.readTree(report);
            for (var attempt : List.of("jobs", "events_a", "events_b", "link_b", "ui", "other_preview")) {
                assertThat(json.path(attempt).asText()).as("%s in %s", attempt, report).startsWith("refused: ");
            }
            assertThat(json.path("local_storage").asText()).isEqualTo("[]");
            assertThat(json.path("session_storage").asText()).isEqualTo("[]");
            assertThat(json.path("cookie").asText()).as("no cookie is readable").isEmpty();
            assertThat(json.path("opener").asText()).as("no handle on the UI").isEqualTo("null");
            assertThat(report).doesNotContain(KEY).doesNotContain(taskA).doesNotContain(taskB)
                    .doesNotContain("status_changed").doesNotContain("tool_started");

            // The cross-site POST went out and was refused: still only A and B.
            var jobs = Rest.json(cluster.rest(KEY).get("/v1/jobs?page_size=50")).path("jobs");
            assertThat(jobs).extracting(job -> job.path("job_id").asText()).containsExactlyInAnyOrder(jobA, jobB);
            // And the UI's own credentials are where they were.
            assertThat(ui.evaluate("localStorage.getItem('nomad-shell-key')")).isEqualTo(KEY);
            assertThat(context.cookies(cluster.baseUrl())).as("the API origin holds no cookie").isEmpty();
        }
    }

    @Test
    void jupyterRunsCodeInTheBrowserOnItsOwnOriginWithATokenTheBrowserNeverSees() throws Exception {
        try (var context = browser.newContext()) {
            var ui = uiWithKey(context);
            openJob(ui, jobA);
            var jupyter = context.waitForPage(new BrowserContext.WaitForPageOptions().setTimeout(150_000),
                    () -> ui.locator("#open-jupyter").click());
            jupyter.waitForURL(origin(jobA, 8888) + "/**", new Page.WaitForURLOptions().setTimeout(150_000));
            assertThat(jupyter.url()).doesNotContain("nomad_shell_link");

            var result = jupyter.evaluate("""
                    async () => {
                      const status = await (await fetch('/api/status')).json();
                      const kernel = await (await fetch('/api/kernels', { method: 'POST', body: '{}' })).json();
                      const socket = new WebSocket(`ws://${location.host}/api/kernels/${kernel.id}/channels`);
                      const answer = await new Promise((resolve, reject) => {
                        setTimeout(() => reject(new Error('no answer in 60 s')), 60000);
                        socket.onerror = () => reject(new Error('the WebSocket failed'));
                        socket.onmessage = (event) => {
                          const message = JSON.parse(event.data);
                          if (message.msg_type === 'execute_result') resolve(message.content.data['text/plain']);
                        };
                        socket.onopen = () => socket.send(JSON.stringify({
                          header: { msg_id: 'm1', username: 'browser', session: 's1', msg_type: 'execute_request',
                                    version: '5.3', date: new Date().toISOString() },
                          parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
                          content: { code: '6 * 7', silent: false, store_history: false, user_expressions: {},
                                     allow_stdin: false, stop_on_error: true },
                        }));
                      });
                      socket.close();
                      await fetch(`/api/kernels/${kernel.id}`, { method: 'DELETE' });
                      return JSON.stringify({ started: 'started' in status, answer, cookie: document.cookie });
                    }
                    """);
            var json = Rest.JSON.readTree((String) result);
            assertThat(json.path("started").asBoolean()).as("%s", result).isTrue();
            assertThat(json.path("answer").asText()).isEqualTo("42");
            var token = cluster.controlPlane().tunnels().jupyterToken(jobA);
            assertThat((String) result).doesNotContain(token);
            assertThat(jupyter.content()).doesNotContain(token);
            assertThat(context.cookies()).noneSatisfy(cookie -> assertThat(cookie.value).contains(token));
        }
    }

    /** The web UI in {@code context}, with the key typed in, as a user has it. */
    private Page uiWithKey(BrowserContext context) {
        var ui = context.newPage();
        ui.navigate(cluster.baseUrl() + "/ui/");
        ui.locator("#api-key").fill(KEY);
        ui.locator("#api-key").dispatchEvent("change");
        ui.locator("#jobs tr[data-job-id='" + jobA + "']")
                .waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
        return ui;
    }

    private static void openJob(Page ui, String job) {
        ui.navigate(ui.url().replaceFirst("#.*$", "") + "#/jobs/" + job);
        ui.locator("#previews").waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
    }

    /** Opens the job's page server from the UI: a new tab on the port's preview origin. */
    private Page openPort(Page ui, String job) {
        openJob(ui, job);
        ui.locator("#preview-port").fill(Integer.toString(PAGE_PORT));
        var tab = ui.context().waitForPage(() -> ui.locator("#open-port").click());
        tab.waitForURL(origin(job, PAGE_PORT) + "/**");
        tab.waitForLoadState();
        return tab;
    }

    private String origin(String job, int port) {
        return "http://p" + port + "-" + job + ".localhost:" + cluster.previewPort();
    }

    private void awaitServing(PreviewClient previews, String job) {
        var link = Rest.json(cluster.rest(KEY).post("/v1/jobs/" + job + "/links?port=" + PAGE_PORT, "application/json", "{}"));
        var cookie = previews.enter(link.path("url").asText());
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (previews.get(origin(job, PAGE_PORT) + "/index.html", "Cookie", cookie).status().code() != 200) {
            assertThat(System.nanoTime()).as("job %s serves its page in time", job).isLessThan(deadline);
            Rest.sleep(300);
        }
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
}
