package io.nomadshell.controlplane.launch.nomad;

import com.hashicorp.nomad.apimodel.AllocationListStub;
import com.hashicorp.nomad.apimodel.AllocationMetric;
import com.hashicorp.nomad.apimodel.Evaluation;
import com.hashicorp.nomad.apimodel.TaskEvent;
import com.hashicorp.nomad.apimodel.TaskState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a sandbox's allocation (or its absence) means, in words for the user whose job it ran:
 * the Nomad vocabulary (client status, task events, placement metrics) stays in here.
 */
final class AllocationWords {
    static final String TASK = "sandbox";
    private static final Pattern PULLED_IMAGE = Pattern.compile("Failed to pull `([^`]+)`: (.*)", Pattern.DOTALL);
    private static final int MAX_DETAIL = 300;

    private AllocationWords() {}

    /** Whether the allocation has ended. */
    static boolean ended(AllocationListStub allocation) {
        var status = allocation.getClientStatus();
        return "complete".equals(status) || "failed".equals(status) || "lost".equals(status);
    }

    /** Whether Nomad lost the allocation with its node. */
    static boolean lost(AllocationListStub allocation) {
        return "lost".equals(allocation.getClientStatus());
    }

    /** Why the sandbox ended, once its allocation has; empty while it runs or is about to. */
    static Optional<String> endReason(AllocationListStub allocation, int memoryMb) {
        if (!ended(allocation)) {
            return Optional.empty();
        }
        if (lost(allocation)) {
            // Nomad's own description ("alloc is lost since its node is down") says nothing more.
            return Optional.of("the node running the sandbox (" + orUnknown(allocation.getNodeName()) + ") was lost");
        }
        var state = task(allocation);
        List<TaskEvent> events = state == null || state.getEvents() == null ? List.of() : state.getEvents();
        for (var event : events.reversed()) {
            var words = words(event, memoryMb);
            if (words != null) {
                return Optional.of(words);
            }
        }
        return Optional.of("the sandbox ended (Nomad says: " + allocation.getClientStatus()
                + detail(allocation.getClientDescription()) + ")");
    }

    private static @Nullable String words(TaskEvent event, int memoryMb) {
        Map<String, String> details = event.getDetails() == null ? Map.of() : event.getDetails();
        return switch (String.valueOf(event.getType())) {
            case "Driver Failure" -> driverFailure(firstNonEmpty(event.getDriverError(), event.getDisplayMessage()));
            case "Terminated" -> {
                if ("true".equals(details.get("oom_killed"))) {
                    yield "the sandbox ran out of memory (limit " + memoryMb + " MiB) and was killed";
                }
                int code = event.getExitCode();
                yield code == 0 ? "the sandbox exited"
                        : "the sandbox exited with code " + code + detail(details.get("exit_message"));
            }
            case "Killed" -> "the sandbox was stopped";
            case "Setup Failure" -> "Nomad could not set the sandbox up" + detail(event.getSetupError());
            case "Failed Validation" -> "Nomad refused the sandbox's task" + detail(event.getValidationError());
            case "Sibling Task Failed", "Task hook failed" -> "Nomad could not run the sandbox"
                    + detail(event.getDisplayMessage());
            default -> null;
        };
    }

    private static String driverFailure(String error) {
        var pull = PULLED_IMAGE.matcher(error);
        if (pull.matches()) {
            return "the sandbox image " + pull.group(1) + " is not on the Nomad node and could not be pulled"
                    + detail(pull.group(2));
        }
        return "the Nomad docker driver could not start the sandbox" + detail(error);
    }

    /** Why no node took the sandbox within {@code waited}, from the evaluation's placement metrics. */
    static String notPlaced(@Nullable Evaluation evaluation, Duration waited) {
        var prefix = "no Nomad node could run the sandbox within " + waited.toSeconds() + " s";
        var failed = evaluation == null || evaluation.getFailedTgAllocs() == null ? null
                : evaluation.getFailedTgAllocs().values().stream().findFirst().orElse(null);
        if (failed == null) {
            return prefix;
        }
        return prefix + ": " + metrics(failed);
    }

    private static String metrics(AllocationMetric metric) {
        var reasons = new ArrayList<String>();
        if (metric.getNodesEvaluated() == 0) {
            reasons.add("no node is ready in the job's datacenters");
        }
        counts(metric.getDimensionExhausted()).forEach((dimension, nodes) ->
                reasons.add("not enough " + dimension + " on " + nodes + " node" + (nodes == 1 ? "" : "s")));
        counts(metric.getConstraintFiltered()).forEach((constraint, nodes) ->
                reasons.add(nodes + " node" + (nodes == 1 ? "" : "s") + " ruled out by " + constraint));
        counts(metric.getClassFiltered()).forEach((nodeClass, nodes) ->
                reasons.add(nodes + " node" + (nodes == 1 ? "" : "s") + " of class " + nodeClass + " ruled out"));
        return reasons.isEmpty() ? metric.getNodesEvaluated() + " nodes evaluated, none had room"
                : String.join("; ", reasons);
    }

    private static Map<String, Integer> counts(@Nullable Map<String, Integer> counts) {
        return counts == null ? Map.of() : counts;
    }

    private static @Nullable TaskState task(AllocationListStub allocation) {
        var states = allocation.getTaskStates();
        return states == null ? null : states.get(TASK);
    }

    private static String firstNonEmpty(@Nullable String first, @Nullable String second) {
        return first != null && !first.isBlank() ? first : second == null ? "" : second;
    }

    private static String orUnknown(@Nullable String value) {
        return value == null || value.isBlank() ? "unknown" : value;
    }

    /** ": detail", shortened, or nothing when there is none. */
    private static String detail(@Nullable String detail) {
        if (detail == null || detail.isBlank()) {
            return "";
        }
        var text = detail.strip();
        return ": " + (text.length() > MAX_DETAIL ? text.substring(0, MAX_DETAIL) + "…" : text);
    }
}
