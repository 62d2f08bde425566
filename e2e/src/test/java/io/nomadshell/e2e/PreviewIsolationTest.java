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
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Previews in a real browser (Debian's Chromium, headless, driven by Playwright). Jobs A and B each
 * serve a hostile page from their sandbox (scenario preview-attack). In the browser where the web UI
 * holds the API key (typed into it first), A's page, opened from the UI on its preview origin, tries
 * to read the API's job list and A's and B's events, to get a link for B, to read the UI and B's
 * preview (whose cookie the browser holds), to schedule a job with a cross-site text/plain POST, and
 * to read the key and cookies: it gets nothing and schedules nothing. The same without API keys,
 * where the UI needs no key. Jupyter, opened from the UI on its own origin, runs code from the page
 * with the token the proxy adds, which the browser never sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PreviewIsolationTest {
    private static final String KEY = "preview-browser-key";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final int PAGE_PORT = 18090;
    private final String marker = "marker-" + UUID.randomUUID();
    private ScriptedModelServer model;
    private Site keyed;
    private Playwright playwright;
    private Browser browser;

    @BeforeAll
    void start(@TempDir Path dataDir) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario("preview-attack", dataDir, marker)).build().start();
        keyed = Site.start(dataDir.resolve("keyed"), model, KEY, marker);
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
        if (keyed != null) keyed.close();
        if (model != null) model.close();
    }

    @Test
    void aSandboxsPageGetsNothingOfTheApiTheKeyOrOtherJobs() throws Exception {
        attack(keyed);
    }

    @Test
    void withoutApiKeysASandboxsPageGetsNothingEither(@TempDir Path dataDir) throws Exception {
        try (var open = Site.start(dataDir, model, null, marker)) {
            attack(open);
        }
    }

    @Test
    void jupyterRunsCodeInTheBrowserOnItsOwnOriginWithATokenTheBrowserNeverSees() throws Exception {
        try (var context = browser.newContext()) {
            var ui = keyed.ui(context);
            keyed.openJob(ui, keyed.jobA);
            var jupyter = context.waitForPage(new BrowserContext.WaitForPageOptions().setTimeout(150_000),
                    () -> ui.locator("#open-jupyter").click());
            jupyter.waitForURL(keyed.origin(keyed.jobA, 8888) + "/**", new Page.WaitForURLOptions().setTimeout(150_000));
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
            var token = keyed.cluster.controlPlane().tunnels().jupyterToken(keyed.jobA);
            assertThat((String) result).doesNotContain(token);
            assertThat(jupyter.content()).as("Jupyter's page, its token masked").doesNotContain(token);
            assertThat(context.cookies()).noneSatisfy(cookie -> assertThat(cookie.value).contains(token));
        }
    }

    /** Opens A's hostile page from the UI in {@code site} and checks what it got. */
    private void attack(Site site) throws Exception {
        try (var context = browser.newContext()) {
            var ui = site.ui(context);
            // The owner has B's preview open too: its cookie sits in this browser.
            var pageB = site.openPort(ui, site.jobB);
            assertThat(pageB.locator("h1").textContent()).contains(marker);

            var pageA = site.openPort(ui, site.jobA);
            assertThat(pageA.url()).as("the link left the address")
                    .isEqualTo(site.origin(site.jobA, PAGE_PORT) + "/").doesNotContain("nomad_shell_link");
            pageA.navigate(site.origin(site.jobA, PAGE_PORT) + "/index.html?api=" + encode(site.cluster.baseUrl())
                    + "&a=" + site.jobA + "&b=" + site.jobB + "&other=" + encode(site.origin(site.jobB, PAGE_PORT) + "/index.html"));
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
            assertThat(report).doesNotContain(KEY).doesNotContain(site.taskA).doesNotContain(site.taskB)
                    .doesNotContain("status_changed").doesNotContain("tool_started");
            assertThat(json.path("schedule").asText()).as(report).startsWith("sent");

            // Still only A and B.
            var jobs = Rest.json(site.rest().get("/v1/jobs?page_size=50")).path("jobs");
            assertThat(jobs).extracting(job -> job.path("job_id").asText()).containsExactlyInAnyOrder(site.jobA, site.jobB);
            // And the UI's own credentials are where they were.
            assertThat(ui.evaluate("localStorage.getItem('nomad-shell-key')")).isEqualTo(site.key == null ? "" : site.key);
            assertThat(context.cookies(site.cluster.baseUrl())).as("the API origin holds no cookie").isEmpty();
        }
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    /** A server (with or without an API key) running jobs A and B, each serving its page. */
    private static final class Site implements AutoCloseable {
        final TestCluster cluster;
        final @Nullable String key;
        final String taskA;
        final String taskB;
        final String jobA;
        final String jobB;

        private Site(TestCluster cluster, @Nullable String key, String marker) {
            this.cluster = cluster;
            this.key = key;
            this.taskA = "Serve the page of job A " + marker;
            this.taskB = "Serve the page of job B " + marker;
            this.jobA = rest().schedule(taskA);
            this.jobB = rest().schedule(taskB);
        }

        static Site start(Path dataDir, ScriptedModelServer model, @Nullable String key, String marker) throws IOException {
            var cluster = TestCluster.start(dataDir, model.baseUrl(), 2, key == null ? ApiKeys.none() : ApiKeys.of(Set.of(key)));
            try {
                var site = new Site(cluster, key, marker);
                try (var previews = new PreviewClient(cluster.previewPort())) {
                    for (var job : List.of(site.jobA, site.jobB)) {
                        site.rest().awaitStatus(job, Set.of("running"), Duration.ofSeconds(60));
                        site.awaitServing(previews, job);
                    }
                }
                return site;
            } catch (RuntimeException | Error e) {
                cluster.close();
                throw e;
            }
        }

        Rest rest() {
            return key == null ? cluster.rest() : cluster.rest(key);
        }

        /** The web UI in {@code context}, with the key typed in (when there is one), as a user has it. */
        Page ui(BrowserContext context) {
            var ui = context.newPage();
            ui.navigate(cluster.baseUrl() + "/ui/");
            ui.locator("#api-key").fill(key == null ? "" : key);
            ui.locator("#api-key").dispatchEvent("change");
            ui.locator("#jobs tr[data-job-id='" + jobA + "']")
                    .waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
            return ui;
        }

        void openJob(Page ui, String job) {
            ui.navigate(cluster.baseUrl() + "/ui/#/jobs/" + job);
            ui.locator("#previews").waitFor(new Locator.WaitForOptions().setState(WaitForSelectorState.VISIBLE).setTimeout(10_000));
        }

        /** Opens the job's page server from the UI: a new tab on the port's preview origin. */
        Page openPort(Page ui, String job) {
            openJob(ui, job);
            ui.locator("#preview-port").fill(Integer.toString(PAGE_PORT));
            var tab = ui.context().waitForPage(() -> ui.locator("#open-port").click());
            tab.waitForURL(origin(job, PAGE_PORT) + "/**");
            tab.waitForLoadState();
            return tab;
        }

        String origin(String job, int port) {
            return "http://p" + port + "-" + job + ".localhost:" + cluster.previewPort();
        }

        private void awaitServing(PreviewClient previews, String job) {
            var link = Rest.json(rest().post("/v1/jobs/" + job + "/links?port=" + PAGE_PORT, "application/json", "{}"));
            var cookie = previews.enter(link.path("url").asText());
            var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (previews.get(origin(job, PAGE_PORT) + "/index.html", "Cookie", cookie).status().code() != 200) {
                assertThat(System.nanoTime()).as("job %s serves its page in time", job).isLessThan(deadline);
                Rest.sleep(300);
            }
        }

        @Override
        public void close() {
            for (var job : List.of(jobA, jobB)) {
                rest().post("/v1/jobs/" + job + ":cancel", "application/json", "{}");
            }
            cluster.close();
        }
    }
}
