package io.nomadshell.daemon.tool.desktop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.daemon.tool.TestTools;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.daemon.tool.ToolOptions;
import io.nomadshell.proto.v1.ComputerAction;
import io.nomadshell.proto.v1.ComputerAction.Kind;
import io.nomadshell.proto.v1.ComputerResult;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The computer tool on a real Xvfb with a real Tk program: a screenshot, a click on its button,
 * and the next screenshot differs where the button changed. The screen is larger than the
 * screenshots, so coordinates are mapped.
 */
class ComputerToolTest {

    /** A window at a fixed place whose button turns green and prints when clicked. */
    static final String BUTTON_APP = """
            import tkinter as tk
            root = tk.Tk()
            root.title('nomad-button')
            root.geometry('400x300+100+100')
            def clicked():
                button.configure(text='Clicked', bg='#00c000', activebackground='#00c000')
                print('clicked', flush=True)
            button = tk.Button(root, text='Click me', bg='#c00000', activebackground='#c00000', command=clicked)
            button.pack(fill='both', expand=True)
            root.after(300, lambda: print('ready', flush=True))
            root.mainloop()
            """;

    @TempDir
    Path scratch;

    private ToolOptions options;
    private Desktop desktop;
    private ComputerTool computer;
    private Process app;

    @BeforeEach
    void setUp() {
        // 1600x1000 fits 1280x800 at 0.8: every coordinate goes through the mapping.
        options = TestTools.options(scratch, 1600, 1000);
        desktop = new Desktop(options);
        computer = new ComputerTool(desktop, options);
    }

    @AfterEach
    void tearDown() {
        if (app != null) {
            app.destroyForcibly();
        }
        desktop.close();
    }

    @Test
    void clickingTheButtonChangesTheScreenWhereTheButtonIs() throws Exception {
        ComputerResult first = computer.run(action(Kind.SCREENSHOT).build());
        assertThat(first.getImageWidth()).isEqualTo(1280);
        assertThat(first.getImageHeight()).isEqualTo(800);
        assertThat(first.getScreenWidth()).isEqualTo(1600);

        String display = desktop.display().orElseThrow();
        Path script = Files.writeString(scratch.resolve("button.py"), BUTTON_APP);
        ProcessBuilder builder = new ProcessBuilder("/usr/bin/python3", script.toString()).redirectErrorStream(true);
        builder.environment().put("DISPLAY", display);
        app = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(app.getInputStream(), StandardCharsets.UTF_8));
        assertThat(readLine(out)).isEqualTo("ready");
        // Mapped and placed by the window manager before anything looks at it.
        assertThat(io.nomadshell.daemon.tool.CommandRunner.run(
                java.util.List.of("xdotool", "search", "--sync", "--onlyvisible", "--name", "nomad-button"),
                java.util.Map.of("DISPLAY", display), java.time.Duration.ofSeconds(60)).exitCode()).isZero();
        Thread.sleep(1000);

        BufferedImage before = image(computer.run(action(Kind.SCREENSHOT).build()));
        // The window's middle on the screen is (300, 250): (240, 200) in screenshot pixels.
        ComputerResult click = computer.run(action(Kind.LEFT_CLICK).setX(240).setY(200).build());
        assertThat(click.getCursorX()).isEqualTo(240);
        assertThat(click.getCursorY()).isEqualTo(200);
        assertThat(readLine(out)).isEqualTo("clicked");
        BufferedImage after = image(computer.run(action(Kind.SCREENSHOT).build()));

        // The button's area turned from red to green; a corner of the screen far away did not change.
        int[] beforeRgb = rgb(before.getRGB(180, 150));
        int[] afterRgb = rgb(after.getRGB(180, 150));
        assertThat(beforeRgb[0]).as("red before %s", java.util.Arrays.toString(beforeRgb)).isGreaterThan(150);
        assertThat(afterRgb[1]).as("green after %s", java.util.Arrays.toString(afterRgb)).isGreaterThan(150);
        assertThat(after.getRGB(1200, 750)).isEqualTo(before.getRGB(1200, 750));

        // xdotool sees the pointer where the click was (screen (300, 250)).
        String location = io.nomadshell.daemon.tool.CommandRunner.run(java.util.List.of("xdotool", "getmouselocation"),
                java.util.Map.of("DISPLAY", display), java.time.Duration.ofSeconds(5)).stdoutText();
        assertThat(location).startsWith("x:300 y:250");
    }

    @Test
    void typesKeysScrollsDragsAndReportsThePointer() throws Exception {
        computer.run(action(Kind.MOUSE_MOVE).setX(100).setY(50).build());
        ComputerResult position = computer.run(action(Kind.CURSOR_POSITION).build());
        assertThat(position.getCursorX()).isEqualTo(100);
        assertThat(position.getCursorY()).isEqualTo(50);
        assertThat(position.getText()).contains("(100, 50)");

        assertThat(computer.run(action(Kind.LEFT_CLICK_DRAG).setFromX(10).setFromY(10).setX(20).setY(30).build())
                .getCursorY()).isEqualTo(30);
        assertThat(computer.run(action(Kind.SCROLL).setX(5).setY(5).setScrollDirection("down").setScrollAmount(2).build())
                .getText()).contains("scrolled down 2 times");
        assertThat(computer.run(action(Kind.TYPE).setText("hello").build()).getText()).contains("typed 5 characters");
        assertThat(computer.run(action(Kind.KEY).setText("ctrl+a Return").build()).getText()).contains("pressed ctrl+a Return");
        assertThat(computer.run(action(Kind.WAIT).setDurationMs(50).build()).getText()).contains("waited 50 ms");
    }

    @Test
    void refusesCoordinatesOffTheScreenshot() throws Exception {
        assertThatThrownBy(() -> computer.run(action(Kind.LEFT_CLICK).setX(1280).setY(10).build()))
                .isInstanceOf(ToolException.class)
                .hasMessage("x 1280 is off the screen (0 to 1279)");
        assertThatThrownBy(() -> computer.run(action(Kind.SCROLL).setX(1).setY(1).setScrollDirection("sideways").build()))
                .isInstanceOf(ToolException.class)
                .hasMessageContaining("scroll_direction must be up, down, left or right");
    }

    @Test
    void restartsADeadDisplayOnTheNextAction() throws Exception {
        String display = desktop.ensureReady();
        long xvfb = ProcessHandle.current().descendants()
                .filter(p -> p.info().command().orElse("").endsWith("Xvfb"))
                .findFirst().orElseThrow().pid();
        ProcessHandle.of(xvfb).orElseThrow().destroyForcibly();
        ProcessHandle.of(xvfb).ifPresent(p -> p.onExit().join());

        ComputerResult shot = computer.run(action(Kind.SCREENSHOT).build());
        assertThat(shot.getPng().size()).isGreaterThan(100);
        assertThat(desktop.display()).isPresent();
        assertThat(display).startsWith(":");
    }

    private static ComputerAction.Builder action(Kind kind) {
        return ComputerAction.newBuilder().setKind(kind);
    }

    private static BufferedImage image(ComputerResult result) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(result.getPng().toByteArray()));
    }

    private static int[] rgb(int pixel) {
        return new int[] {(pixel >> 16) & 0xff, (pixel >> 8) & 0xff, pixel & 0xff};
    }

    private static String readLine(BufferedReader reader) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return reader.readLine();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(30, TimeUnit.SECONDS);
    }
}
