package io.nomadshell.controlplane.agent;

import com.openai.models.chat.completions.ChatCompletionTool;
import io.nomadshell.controlplane.context.FunctionTools;
import io.nomadshell.proto.v1.ComputerAction;
import io.nomadshell.proto.v1.ToolCall;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The {@code computer} tool as offered to the model, and its arguments turned into a {@link ComputerAction}. */
final class ComputerToolSpec {

    static final String NAME = "computer";
    /** The first action starts the desktop; that and a screenshot take a few seconds at most. */
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final Map<String, ComputerAction.Kind> KINDS = new TreeMap<>(Map.ofEntries(
            Map.entry("screenshot", ComputerAction.Kind.SCREENSHOT),
            Map.entry("left_click", ComputerAction.Kind.LEFT_CLICK),
            Map.entry("right_click", ComputerAction.Kind.RIGHT_CLICK),
            Map.entry("middle_click", ComputerAction.Kind.MIDDLE_CLICK),
            Map.entry("double_click", ComputerAction.Kind.DOUBLE_CLICK),
            Map.entry("mouse_move", ComputerAction.Kind.MOUSE_MOVE),
            Map.entry("left_click_drag", ComputerAction.Kind.LEFT_CLICK_DRAG),
            Map.entry("scroll", ComputerAction.Kind.SCROLL),
            Map.entry("type", ComputerAction.Kind.TYPE),
            Map.entry("key", ComputerAction.Kind.KEY),
            Map.entry("cursor_position", ComputerAction.Kind.CURSOR_POSITION),
            Map.entry("wait", ComputerAction.Kind.WAIT)));
    private static final Set<ComputerAction.Kind> AT_A_POINT = Set.of(ComputerAction.Kind.LEFT_CLICK,
            ComputerAction.Kind.RIGHT_CLICK, ComputerAction.Kind.MIDDLE_CLICK, ComputerAction.Kind.DOUBLE_CLICK,
            ComputerAction.Kind.MOUSE_MOVE, ComputerAction.Kind.LEFT_CLICK_DRAG, ComputerAction.Kind.SCROLL);

    private ComputerToolSpec() {}

    static ChatCompletionTool definition() {
        Map<String, Object> coordinate = Map.of("type", "array", "items", Map.of("type", "integer"),
                "minItems", 2, "maxItems", 2,
                "description", "[x, y] in the pixels of the latest screenshot");
        return FunctionTools.of(NAME, """
                Use the sandbox's graphical desktop (a Linux X display; GUI programs started with exec \
                appear on it once it runs; the first call starts it). 'screenshot' shows the screen \
                (at most 1280x800); click, move, drag and scroll at [x, y] in screenshot pixels; 'type' \
                text; 'key' presses xdotool keys or combos such as Return, ctrl+s, alt+F4 (several \
                separated by spaces); 'cursor_position' reports the pointer; 'wait' pauses. Take a \
                screenshot after acting to see the result.""",
                Map.of("action", Map.of("type", "string", "enum", List.copyOf(KINDS.keySet())),
                        "coordinate", coordinate,
                        "start_coordinate", Map.of("type", "array", "items", Map.of("type", "integer"),
                                "description", "left_click_drag: where the drag starts ([x, y])"),
                        "text", FunctionTools.string("type: the text; key: the keys"),
                        "scroll_direction", Map.of("type", "string", "enum", List.of("up", "down", "left", "right")),
                        "scroll_amount", Map.of("type", "integer", "description", "scroll: wheel clicks (default 3)"),
                        "duration_ms", Map.of("type", "integer", "description", "wait: how long (at most 30000)")),
                List.of("action"));
    }

    static ToolCatalogue.Action parse(ToolArguments args) {
        ComputerAction.Kind kind = KINDS.get(args.choice("action", KINDS.keySet()));
        String name = kind.name().toLowerCase(Locale.ROOT);
        ComputerAction.Builder action = ComputerAction.newBuilder().setKind(kind);
        if (AT_A_POINT.contains(kind)) {
            int[] xy = args.requiredCoordinate("coordinate", name);
            action.setX(xy[0]).setY(xy[1]);
        }
        switch (kind) {
            case LEFT_CLICK_DRAG -> {
                int[] from = args.requiredCoordinate("start_coordinate", name);
                action.setFromX(from[0]).setFromY(from[1]);
            }
            case SCROLL -> action.setScrollDirection(args.choice("scroll_direction", Set.of("up", "down", "left", "right")))
                    .setScrollAmount((int) args.number("scroll_amount", 3, 1, 50));
            case TYPE, KEY -> action.setText(args.string("text"));
            case WAIT -> action.setDurationMs((int) args.number("duration_ms", 1000, 0, 30_000));
            default -> { }
        }
        return new ToolCatalogue.Action.Sandbox(ToolCall.newBuilder().setComputer(action), TIMEOUT);
    }
}
