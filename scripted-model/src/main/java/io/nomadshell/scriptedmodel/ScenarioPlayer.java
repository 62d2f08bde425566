package io.nomadshell.scriptedmodel;

import java.util.List;

/**
 * Plays a {@link Scenario} as a model with given {@link ModelTraits}: refuses what such a server
 * refuses (tools it rejects, images it cannot see, a prompt beyond its window), picks the turn a
 * request asks for, applies the turn's delay, injected failures and expectation, checks its tools
 * are offered, and shapes the answer (dropped tools, output cap, cut).
 *
 * <p>Stateless apart from the failure counts: the turn follows from the request's assistant messages
 * (see {@link ChatRequest#turn()}), so retries get the same turn and concurrent conversations never
 * interfere. A {@link MatchedTurn} whose text the system prompt contains answers first.
 */
final class ScenarioPlayer {

    /** Enough of the actual tool results to see why an expectation failed. */
    private static final int MAX_QUOTED_RESULTS = 300;

    private final Scenario scenario;
    private final ModelTraits traits;
    private final Shutdown shutdown;
    private final FailureBudget failures = new FailureBudget();

    ScenarioPlayer(Scenario scenario, ModelTraits traits, Shutdown shutdown) {
        this.scenario = scenario;
        this.traits = traits;
        this.shutdown = shutdown;
    }

    /**
     * The server's own count of the request's prompt: its messages, the arguments of the tool
     * calls they replay and, where the template carries tools, the tool definitions.
     *
     * @throws ApiException if the server refuses the request before reading its prompt
     */
    int promptTokens(ChatRequest request) {
        if (traits.toolsRejected() && !request.offeredTools().isEmpty()) {
            // Ollama's words for a model whose template has no tools (its OpenAI layer, 400).
            throw ApiException.invalidRequest("registry.ollama.ai/library/" + request.model() + " does not support tools");
        }
        if (!traits.acceptsImages() && request.images() > 0) {
            // llama-server without a vision projector (server-common.cpp).
            throw ApiException.llamaServerError("image input is not supported - hint: if this is unexpected, you may"
                    + " need to provide the mmproj");
        }
        int tokens = traits.serverTokens(TokenCounter.count(request.promptTexts())
                + (traits.toolsSupported() ? TokenCounter.count(request.toolsText()) : 0));
        if (tokens >= traits.contextWindow()) {
            throw ApiException.contextExceeded(tokens, traits.contextWindow());
        }
        return tokens;
    }

    /**
     * The answer to {@code request}, whose prompt has {@code promptTokens}.
     *
     * @throws ApiException         if the scenario refuses it or injects a failure
     * @throws InterruptedException if the server closes during the turn's delay
     */
    Answer reply(ChatRequest request, int promptTokens) throws InterruptedException {
        for (MatchedTurn matched : scenario.matchedTurns()) {
            if (request.systemText().contains(matched.systemContains())) {
                return answer(request, request.turn(), Turn.saying(matched.content()), promptTokens);
            }
        }
        int index = request.turn();
        if (index >= scenario.turns().size()) {
            throw ApiException.invalidRequest("the scenario '" + scenario.name() + "' has only "
                    + scenario.turns().size() + " turns");
        }
        Turn turn = scenario.turns().get(index);
        if (turn.delay().isPositive()) {
            shutdown.pause(turn.delay());
        }
        InjectedFailure failure = turn.fail();
        if (failure != null && failures.shouldFail(request.conversation(), index, failure)) {
            throw ApiException.injected(failure);
        }
        checkExpectation(request, index, turn);
        checkImages(request, index, turn);
        if (traits.toolsSupported()) {
            checkToolsOffered(request, index, turn);
        }
        return answer(request, index, turn, promptTokens);
    }

    /** The turn as this model sends it: without tool calls if it cannot make any, cut at its cap. */
    private Answer answer(ChatRequest request, int index, Turn turn, int promptTokens) {
        String content = turn.content();
        List<ToolCall> calls = turn.toolCalls();
        if (!traits.toolsSupported()) {
            // The template never told the model about tools: it answers in words only.
            calls = List.of();
            content = content == null ? "" : content;
        }
        // A model stops at max_tokens, and also where its window is full.
        int room = traits.contextWindow() - promptTokens;
        int cap = request.outputCap().isPresent() ? Math.min(request.outputCap().getAsInt(), room) : room;
        CappedOutput output = CappedOutput.of(content, calls, traits.o200kTokens(cap));
        String finishReason = turn.cut() || output.cut() ? "length"
                : output.toolCalls().isEmpty() ? "stop" : "tool_calls";
        return new Answer(index, output.content(), output.toolCalls(), finishReason, promptTokens,
                traits.serverTokens(output.tokens()), turn.tokenDelay(), turn.stallAfter());
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
