package io.nomadshell.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nomadshell.scriptedmodel.ScriptedModelServer;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The full toolset as a user's job runs it: the scripted model calls the tools over Attach in a
 * real bubblewrap sandbox, and each scenario turn is only given if the previous tool results
 * (and images) say what they should.
 */
class ToolsetEndToEndTest {
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

    @TempDir
    Path dataDir;

    private ScriptedModelServer model;
    private TestCluster cluster;

    @AfterEach
    void stop() {
        if (cluster != null) cluster.close();
        if (model != null) model.close();
    }

    private String run(String scenario, String marker, String task) throws Exception {
        model = ScriptedModelServer.builder().scenario(Fixtures.scenario(scenario, dataDir, marker)).build().start();
        cluster = TestCluster.start(dataDir.resolve("server"), model.baseUrl(), 1);
        var rest = cluster.rest();
        var id = rest.schedule(task);
        var polled = rest.awaitEnd(id, JOB_TIMEOUT);
        assertThat(polled.last().path("status").asText())
                .as("%s\n%s", polled.last(), Fixtures.history(cluster.port(), id)).isEqualTo("complete");
        return id;
    }

    @Test
    void theComputerToolClicksAButtonAndSeesTheScreenChange() throws Exception {
        var id = run("gui-button", "unused", "Click the button of a small GUI program");

        // The last request carries the three screenshots: empty desktop, before and after the click.
        List<BufferedImage> shots = images(model.receivedRequests().getLast());
        assertThat(shots).hasSize(3);
        BufferedImage before = shots.get(1);
        BufferedImage after = shots.get(2);
        assertThat(before.getWidth()).isEqualTo(1280);
        assertThat(before.getHeight()).isEqualTo(800);
        // Inside the button (window at 100,100, 400x300): red before, green after.
        int[] red = rgb(before.getRGB(200, 200));
        int[] green = rgb(after.getRGB(200, 200));
        assertThat(red[0]).as("red before: %s", java.util.Arrays.toString(red)).isGreaterThan(150);
        assertThat(green[1]).as("green after: %s", java.util.Arrays.toString(green)).isGreaterThan(150);
        // Far from the program nothing changed.
        assertThat(after.getRGB(1200, 760)).isEqualTo(before.getRGB(1200, 760));

        // Watchers saw each screenshot as an event linking to the PNG the model got.
        var rest = cluster.rest();
        var shotEvents = sseData(rest.get("/v1/jobs/" + id + "/events").body(), "screenshot");
        assertThat(shotEvents).hasSize(3);
        var link = shotEvents.getLast().path("screenshot");
        assertThat(link.path("width").asInt()).isEqualTo(1280);
        var png = rest.getBytes(link.path("url").asText());
        assertThat(png.statusCode()).isEqualTo(200);
        assertThat(png.headers().firstValue("content-type")).hasValue("image/png");
        var served = ImageIO.read(new ByteArrayInputStream(png.body()));
        assertThat(served.getRGB(200, 200)).isEqualTo(after.getRGB(200, 200));
        var unknown = rest.get("/v1/jobs/" + id + "/screenshots/s99c0");
        assertThat(unknown.statusCode()).as(unknown.body()).isEqualTo(404);
    }

    /** The data of every SSE event named {@code name} in a finished stream. */
    private static List<JsonNode> sseData(String stream, String name) throws Exception {
        var found = new ArrayList<JsonNode>();
        String event = "";
        for (var line : stream.split("\n")) {
            if (line.startsWith("event:")) {
                event = line.substring("event:".length()).trim();
            } else if (line.startsWith("data:") && event.equals(name)) {
                found.add(Rest.JSON.readTree(line.substring("data:".length())));
            } else if (line.isEmpty()) {
                event = "";
            }
        }
        return found;
    }

    @Test
    void jupyterKeepsStatePlotsSurvivesATimeoutAndRunsTypeScript() throws Exception {
        run("jupyter", "unused", "Compute with Python and TypeScript");

        var requests = model.receivedRequests();
        assertThat(images(requests.getLast())).as("the plot reached the model").hasSize(1);
    }

    @Test
    void aBackgroundServerAnswersIsKilledAndNothingOutlivesTheJob() throws Exception {
        String marker = "300." + (100_000_000L + (long) (Math.random() * 800_000_000L));
        run("background-server", marker, "Serve a page and fetch it");

        // The sleeper was left running; the end of the job killed it.
        var deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Fixtures.processesWith(marker).isEmpty() && System.nanoTime() < deadline) {
            Rest.sleep(100);
        }
        assertThat(Fixtures.processesWith(marker)).isEmpty();
    }

    @Test
    void editFileRefusesAnAmbiguousMatchAndAppliesAUniqueOne() throws Exception {
        var id = run("edit-file", "unused", "Edit a file");

        assertThat(Fixtures.unzip(cluster.rest().getBytes("/download/" + id).body()))
                .containsExactlyEntriesOf(Map.of("a.txt", "foo\nBAR\nfoo\n"));
    }

    /** The images of a chat request's user messages, in order. */
    private static List<BufferedImage> images(JsonNode request) throws Exception {
        var images = new ArrayList<BufferedImage>();
        for (var message : request.path("messages")) {
            for (var part : message.path("content")) {
                var url = part.path("image_url").path("url").asText("");
                if (url.startsWith("data:image/png;base64,")) {
                    images.add(ImageIO.read(new ByteArrayInputStream(
                            Base64.getDecoder().decode(url.substring("data:image/png;base64,".length())))));
                }
            }
        }
        return images;
    }

    private static int[] rgb(int pixel) {
        return new int[] {(pixel >> 16) & 0xff, (pixel >> 8) & 0xff, pixel & 0xff};
    }
}
