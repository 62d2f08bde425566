package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionSystemMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds turns that no longer fit into the running summary with a model call, itself built within
 * the budget; if that call fails the turns are dropped from view with a note saying so (recall
 * still finds them), so a failing summary never stops the job.
 */
final class Condenser {
    private static final Logger log = LoggerFactory.getLogger(Condenser.class);
    static final String PROMPT = """
            You condense the history of a coding agent's work. Given the summary so far and the steps \
            that follow it, write the new summary: what the task is, what has been done and found \
            (files, commands, results, errors), what was decided and what remains. Keep facts the \
            agent will need (names, paths, numbers); drop chatter. Answer with the summary only.""";
    private static final String CUT = "\n[... %d characters not shown ...]\n";

    private final Summarizer summarizer;

    Condenser(Summarizer summarizer) {
        this.summarizer = requireNonNull(summarizer, "summarizer");
    }

    /** The summary once {@code turns} are folded into {@code previous}, the request within {@code budget}. */
    String condense(String previous, List<Turn> turns, ContextBudget budget) {
        var first = turns.get(0).step();
        var last = turns.get(turns.size() - 1).step();
        var system = ChatCompletionMessageParam.ofSystem(ChatCompletionSystemMessageParam.builder().content(PROMPT).build());
        // Room for the steps: the budget less the instructions, the summary so far and the answer.
        int room = budget.total() - MessageTokens.count(system) - Tokens.count(previous) - budget.summary()
                - budget.safety() - 64;
        var steps = Tokens.shorten(describe(turns, budget), Math.max(32, room), CUT);
        var user = ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                .content("Summary so far:\n" + (previous.isEmpty() ? "(none)" : previous)
                        + "\n\nSteps " + first + " to " + last + ":\n" + steps)
                .build());
        try {
            var summary = summarizer.summarize(List.of(system, user)).strip();
            if (!summary.isEmpty()) {
                return Tokens.shorten(summary, budget.summary(), CUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return dropped(previous, turns, " (interrupted)", budget);
        } catch (Exception e) {
            log.warn("Could not condense steps {} to {}: {}", first, last, e.getMessage());
            return dropped(previous, turns, "", budget);
        }
        log.warn("The model returned an empty summary of steps {} to {}", first, last);
        return dropped(previous, turns, "", budget);
    }

    /** The summary with a note that {@code turns} are no longer shown, unsummarized (plain truncation). */
    String dropped(String previous, List<Turn> turns, String why, ContextBudget budget) {
        var note = "[Steps " + turns.get(0).step() + " to " + turns.get(turns.size() - 1).step()
                + " are no longer shown and could not be summarized" + why + "; the recall tool searches them.]";
        return Tokens.shorten(previous.isEmpty() ? note : previous + "\n" + note, budget.summary(), CUT);
    }

    /** The turns as plain text, each part cut to half a shown part. */
    private String describe(List<Turn> turns, ContextBudget budget) {
        var text = new StringBuilder();
        int part = budget.part() / 2;
        for (var turn : turns) {
            text.append("Step ").append(turn.step()).append(":\n");
            for (var message : turn.render(part).messages()) {
                if (message.isAssistant()) {
                    var assistant = message.asAssistant();
                    assistant.content().ifPresent(c -> c.text().ifPresent(t -> text.append("assistant: ").append(t).append('\n')));
                    assistant.toolCalls().ifPresent(calls -> calls.forEach(call -> call.function().ifPresent(f ->
                            text.append("call ").append(f.function().name()).append(' ').append(f.function().arguments()).append('\n'))));
                } else if (message.isTool()) {
                    message.asTool().content().text().ifPresent(t -> text.append("result: ").append(t).append('\n'));
                }
            }
        }
        return text.toString();
    }
}
