package io.nomadshell.daemon.tool.desktop;

import static java.util.Objects.requireNonNull;

import io.nomadshell.daemon.tool.CommandRunner;
import io.nomadshell.daemon.tool.ToolException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Captures the display with scrot (pointer included) and scales it to the model's size as PNG. */
final class Screenshots {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** A screenshot as the model sees it, and the scale it was taken at. */
    record Shot(byte[] png, ScreenScale scale) {}

    private final Path file;

    Screenshots(Path scratch) {
        this.file = requireNonNull(scratch, "scratch").resolve("desktop").resolve("screenshot.png");
    }

    Shot take(String display) throws ToolException, InterruptedException {
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new ToolException("cannot prepare the screenshot file: " + e.getMessage());
        }
        CommandRunner.Outcome outcome = CommandRunner.run(List.of("scrot", "--overwrite", "--pointer", "--silent",
                file.toString()), Map.of("DISPLAY", display), TIMEOUT);
        if (outcome.exitCode() != 0 || !Files.isRegularFile(file)) {
            throw new ToolException("the screenshot failed: "
                    + (outcome.stderr().isEmpty() ? "scrot exited with " + outcome.exitCode() : outcome.stderr()));
        }
        try {
            BufferedImage screen = ImageIO.read(new ByteArrayInputStream(Files.readAllBytes(file)));
            if (screen == null) {
                throw new ToolException("the screenshot is not a readable PNG");
            }
            ScreenScale scale = ScreenScale.of(screen.getWidth(), screen.getHeight());
            BufferedImage image = scale.scaled() ? resize(screen, scale) : screen;
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(image, "png", png);
            return new Shot(png.toByteArray(), scale);
        } catch (IOException e) {
            throw new ToolException("cannot read the screenshot: " + e.getMessage());
        }
    }

    private static BufferedImage resize(BufferedImage screen, ScreenScale scale) {
        BufferedImage image = new BufferedImage(scale.imageWidth(), scale.imageHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(screen, 0, 0, scale.imageWidth(), scale.imageHeight(), null);
        } finally {
            g.dispose();
        }
        return image;
    }
}
