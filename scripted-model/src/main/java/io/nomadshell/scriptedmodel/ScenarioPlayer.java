package io.nomadshell.scriptedmodel;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;

/**
 * Plays a {@link Scenario}: picks the turn a request asks for, applies the turn's delay, injected
 * failures and expectation, checks its tools are offered, and writes the reply.
 *
 * <p>Stateless apart from the failure counts: the turn follows from the request's assistant messages
 * (see {@link ChatRequest#turn()}), so retries get the same turn and concurrent conversations never
 * interfere. A {@link MatchedTurn} whose text the system prompt contains answers first.
 */
final class ScenarioPlayer {

    /** Enough of the actual tool results to see why an expectation failed. */
    private static final int MAX_QUOTED_RESULTS = 300;

    private final Scenario scenario;
    private final FailureBudget failures = new FailureBudget();
    private final CompletionBuilder completions;

    ScenarioPlayer(Scenario scenario, CompletionBuilder completions) {
        this.scenario = scenario;
        this.completions = completions;
    }

    /**
     * The reply to {@code request}.
     *
     * @throws ApiException         if the scenario refuses it or injects a failure
     * @throws InterruptedException if the server closes during the turn's delay
     */
    ObjectNode reply(ChatRequest request) throws InterruptedException {
        for (MatchedTurn matched : scenario.matchedTurns()) {
            if (request.systemText().contains(matched.systemContains())) {
                return completions.completion(request, request.turn(),
                        new Turn(matched.content(), List.of(), null, Duration.ZERO, null, null));
            }
        }
        int index = request.turn();
        if (index >= scenario.turns().size()) {
            throw ApiException.invalidRequest("the scenario '" + scenario.name() + "' has only "
                    + scenario.turns().size() + " turns");
        }
        Turn turn = scenario.turns().get(index);
        if (turn.delay().isPositive()) {
            Thread.sleep(turn.delay());
        }
        InjectedFailure failure = turn.fail();
        if (failure != null && failures.shouldFail(request.conversation(), index, failure)) {
            throw ApiException.injected(failure);
        }
        checkExpectation(request, index, turn);
        checkImages(request, index, turn);
        checkToolsOffered(request, index, turn);
        return completions.completion(request, index, turn);
    }

    private static void checkExpectation(ChatRequest request, int index, Turn turn) {
        String expect = turn.expect();
        if (expect == null) {
            return;
        }
        String results = String.join("\n", request.toolResults());
        if (!results.contains(expect)) {
            String quoted = results.length() > MAX_QUOTED_RESULTS
                    ? results.substring(0, MAX_QUOTED_RESULTS) + "..."
                    : results;
            throw ApiException.invalidRequest("scenario expectation failed at turn " + index
                    + ": expected the tool results to contain '" + expect + "'; they were: '" + quoted + "'");
        }
    }

    private static void checkImages(ChatRequest request, int index, Turn turn) {
        Integer expected = turn.expectImages();
        if (expected != null && expected != request.recentImages()) {
            throw ApiException.invalidRequest("scenario expectation failed at turn " + index + ": expected "
                    + expected + " image(s) after the previous assistant message; the request carries "
                    + request.recentImages());
        }
    }

    private void checkToolsOffered(ChatRequest request, int index, Turn turn) {
        for (ToolCall call : turn.toolCalls()) {
            if (!request.offeredTools().contains(call.name())) {
                throw ApiException.invalidRequest("the scenario '" + scenario.name() + "' calls the tool '"
                        + call.name() + "' at turn " + index + ", but the request does not offer it (offered: "
                        + (request.offeredTools().isEmpty() ? "no tools" : String.join(", ", request.offeredTools()))
                        + ")");
            }
        }
    }
}
