package io.nomadshell.daemon.tool.desktop;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.nomadshell.daemon.tool.CommandRunner;
import io.nomadshell.daemon.tool.ToolException;
import io.nomadshell.daemon.tool.ToolOptions;
import io.nomadshell.proto.v1.ComputerAction;
import io.nomadshell.proto.v1.ComputerResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code computer} tool: screenshots of the desktop and mouse and keyboard input through
 * xdotool. Coordinates come and go in screenshot pixels; the screen may be larger, and they are
 * mapped both ways. One action runs at a time.
 */
public final class ComputerTool {

    static final Duration MAX_WAIT = Duration.ofSeconds(30);
    static final int MAX_SCROLL = 50;
    private static final Duration XDOTOOL_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern LOCATION = Pattern.compile("X=(\\d+)\\s+Y=(\\d+)");

    private final Desktop desktop;
    private final Screenshots screenshots;
    private final ScreenScale scale;

    public ComputerTool(Desktop desktop, ToolOptions options) {
        this.desktop = requireNonNull(desktop, "desktop");
        this.screenshots = new Screenshots(options.scratch());
        this.scale = ScreenScale.of(options.screenWidth(), options.screenHeight());
    }

    public synchronized ComputerResult run(ComputerAction action) throws ToolException, InterruptedException {
        String display = desktop.ensureReady();
        ComputerResult.Builder result = ComputerResult.newBuilder()
                .setScreenWidth(scale.screenWidth())
                .setScreenHeight(scale.screenHeight())
                .setImageWidth(scale.imageWidth())
                .setImageHeight(scale.imageHeight());
        String done = switch (action.getKind()) {
            case SCREENSHOT -> {
                Screenshots.Shot shot = screenshots.take(display);
                result.setPng(ByteString.copyFrom(shot.png()))
                        .setImageWidth(shot.scale().imageWidth())
                        .setImageHeight(shot.scale().imageHeight());
                yield "screenshot " + shot.scale().imageWidth() + "x" + shot.scale().imageHeight();
            }
            case LEFT_CLICK -> click(display, action, "1", 1, "left click");
            case RIGHT_CLICK -> click(display, action, "3", 1, "right click");
            case MIDDLE_CLICK -> click(display, action, "2", 1, "middle click");
            case DOUBLE_CLICK -> click(display, action, "1", 2, "double click");
            case MOUSE_MOVE -> {
                xdotool(display, "mousemove", sx(action.getX()), sy(action.getY()));
                yield "moved the pointer to (" + action.getX() + ", " + action.getY() + ")";
            }
            case LEFT_CLICK_DRAG -> {
                xdotool(display, "mousemove", sx(action.getFromX()), sy(action.getFromY()), "mousedown", "1",
                        "sleep", "0.1", "mousemove", sx(action.getX()), sy(action.getY()), "sleep", "0.1", "mouseup", "1");
                yield "dragged from (" + action.getFromX() + ", " + action.getFromY() + ") to ("
                        + action.getX() + ", " + action.getY() + ")";
            }
            case SCROLL -> scroll(display, action);
            case TYPE -> {
                if (action.getText().isEmpty()) {
                    throw new ToolException("type needs text");
                }
                xdotool(display, "type", "--delay", "12", "--", action.getText());
                yield "typed " + action.getText().length() + " characters";
            }
            case KEY -> {
                List<String> keys = Arrays.stream(action.getText().trim().split("\\s+")).filter(k -> !k.isEmpty()).toList();
                if (keys.isEmpty()) {
                    throw new ToolException("key needs a key or combination, such as Return or ctrl+s");
                }
                List<String> args = new ArrayList<>(List.of("key", "--"));
                args.addAll(keys);
                xdotool(display, args.toArray(String[]::new));
                yield "pressed " + String.join(" ", keys);
            }
            case CURSOR_POSITION -> "cursor position";
            case WAIT -> {
                long ms = Math.min(Integer.toUnsignedLong(action.getDurationMs()), MAX_WAIT.toMillis());
                Thread.sleep(ms);
                yield "waited " + ms + " ms";
            }
            case KIND_UNSPECIFIED, UNRECOGNIZED -> throw new ToolException("computer: unknown action");
        };
        int[] cursor = cursor(display);
        result.setCursorX(cursor[0]).setCursorY(cursor[1]);
        return result.setText(done + "; the pointer is at (" + cursor[0] + ", " + cursor[1] + ")").build();
    }

    private String click(String display, ComputerAction action, String button, int times, String what)
            throws ToolException, InterruptedException {
        xdotool(display, "mousemove", sx(action.getX()), sy(action.getY()),
                "click", "--repeat", Integer.toString(times), "--delay", "80", button);
        return what + " at (" + action.getX() + ", " + action.getY() + ")";
    }

    private String scroll(String display, ComputerAction action) throws ToolException, InterruptedException {
        String button = switch (action.getScrollDirection()) {
            case "up" -> "4";
            case "down" -> "5";
            case "left" -> "6";
            case "right" -> "7";
            default -> throw new ToolException("scroll_direction must be up, down, left or right, not '"
                    + action.getScrollDirection() + "'");
        };
        int amount = (int) Math.min(Math.max(1, Integer.toUnsignedLong(action.getScrollAmount())), MAX_SCROLL);
        xdotool(display, "mousemove", sx(action.getX()), sy(action.getY()),
                "click", "--repeat", Integer.toString(amount), "--delay", "30", button);
        return "scrolled " + action.getScrollDirection() + " " + amount + " times at (" + action.getX() + ", " + action.getY() + ")";
    }

    private String sx(int x) throws ToolException {
        if (x < 0 || x >= scale.imageWidth()) {
            throw new ToolException("x " + x + " is off the screen (0 to " + (scale.imageWidth() - 1) + ")");
        }
        return Integer.toString(scale.screenX(x));
    }

    private String sy(int y) throws ToolException {
        if (y < 0 || y >= scale.imageHeight()) {
            throw new ToolException("y " + y + " is off the screen (0 to " + (scale.imageHeight() - 1) + ")");
        }
        return Integer.toString(scale.screenY(y));
    }

    /** The pointer's position in screenshot pixels. */
    private int[] cursor(String display) throws ToolException, InterruptedException {
        String out = xdotool(display, "getmouselocation", "--shell");
        Matcher m = LOCATION.matcher(out);
        if (!m.find()) {
            throw new ToolException("xdotool did not report the pointer: " + out);
        }
        return new int[] {scale.imageX(Integer.parseInt(m.group(1))), scale.imageY(Integer.parseInt(m.group(2)))};
    }

    private static String xdotool(String display, String... args) throws ToolException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("xdotool"));
        command.addAll(List.of(args));
        CommandRunner.Outcome outcome = CommandRunner.run(command, Map.of("DISPLAY", display), XDOTOOL_TIMEOUT);
        if (outcome.exitCode() != 0) {
            throw new ToolException("xdotool " + args[0] + " failed: "
                    + (outcome.stderr().isEmpty() ? "exit code " + outcome.exitCode() : outcome.stderr()));
        }
        return outcome.stdoutText();
    }
}
