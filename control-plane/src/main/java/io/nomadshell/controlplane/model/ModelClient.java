package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.Timeout;
import com.openai.core.http.AsyncStreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import io.nomadshell.controlplane.context.Tokens;
import io.nomadshell.controlplane.trace.JobTracer;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chat Completions with tools against any OpenAI-compatible endpoint. Every call carries an output
 * cap within the window and streams (watchers see the words as they come); a stream that sends no
 * token for the idle timeout is ended, not a fixed total. Failures are named by their real cause
 * and retried with backoff only where that can help; every attempt's tokens are reported.
 */
public final class ModelClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ModelClient.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(8);

    private final OpenAIClient client;
    private final ModelOptions options;
    private final ModelProfile profile;
    private final boolean openAi;
    private final ModelFailures failures;
    private final JobTracer tracer;

    private ModelClient(ModelOptions options, ModelProfile profile, JobTracer tracer) {
        this.options = options;
        this.profile = profile;
        this.tracer = tracer;
        this.openAi = options.isOpenAi();
        var builder = OpenAIOkHttpClient.builder()
                .apiKey(options.apiKey())
                // Retries are ours: each attempt is counted, and only causes a retry can mend are retried.
                .maxRetries(0)
                // No total: a long answer that keeps streaming is fine. A stalled one ends at the
                // idle timeout, where the caller waits for chunks; the read timeout only backs it up.
                .timeout(Timeout.builder().connect(CONNECT_TIMEOUT).read(options.idleTimeout().plusSeconds(5))
                        .write(Duration.ofSeconds(60)).request(Duration.ofDays(1)).build());
        if (options.baseUrl() != null) {
            builder.baseUrl(options.baseUrl());
        }
        this.client = builder.build();
        this.failures = new ModelFailures(options.baseUrl() != null ? options.baseUrl() : "https://api.openai.com/v1",
                CONNECT_TIMEOUT, options.idleTimeout());
    }

    /** {@link #connect(ModelOptions, int, JobTracer)} without spans. */
    public static ModelClient connect(ModelOptions options, int window) {
        return connect(options, window, JobTracer.NOOP);
    }

    /**
     * A client for the endpoint, with what the server says of its model (window, tool support,
     * images) read once here; {@code window} overrides the window when positive. Each call is a span
     * of {@code tracer}'s.
     */
    public static ModelClient connect(ModelOptions options, int window, JobTracer tracer) {
        requireNonNull(options, "options");
        requireNonNull(tracer, "tracer");
        var facts = ServerProbe.probe(options);
        int known = window > 0 ? window : facts.window().orElse(KnownWindows.windowOf(options.model()));
        var profile = new ModelProfile(options.model(), known, facts.supportsTools());
        if (facts.acceptsImages().equals(Optional.of(false))) {
            profile.refuseImages();
        }
        log.info("Model {} at {}: a window of {} tokens ({}), tools {}, images {}", options.model(),
                options.baseUrl() != null ? options.baseUrl() : "OpenAI",
                known, window > 0 ? "as configured" : facts.window().isPresent() ? "from " + facts.source()
                        : KnownWindows.isKnown(options.model()) ? "known model" : "a guess: the server does not say; set --context-tokens",
                facts.supportsTools().map(yes -> yes ? "supported by its chat template" : "NOT supported by its chat template").orElse("not reported"),
                profile.acceptsImages() ? "accepted" : "not accepted");
        return new ModelClient(options, profile, tracer);
    }

    public ModelProfile profile() {
        return profile;
    }

    /** The model requests go to. */
    public String model() {
        return options.model();
    }

    /**
     * The output cap of a request of {@code promptTokens} (server tokens, as estimated): the flag's,
     * within what the window has left after a margin for the estimate (a tenth, at least 32), since
     * a server such as vLLM refuses a request whose prompt and cap together pass the window.
     */
    public int maxTokensFor(int promptTokens) {
        int margin = Math.max(32, promptTokens / 10);
        return Math.max(1, Math.min(options.maxOutputTokens(), profile.window() - promptTokens - margin));
    }

    /**
     * One model call, retried with backoff where a retry can help (a refused or broken connection,
     * a stalled stream, 429 and 5xx answers), never on a request the server refused as such.
     *
     * @throws ModelException when the call failed for good, with the real cause in words
     * @throws InterruptedException when the job's thread was interrupted (cancelled, out of time):
     *     the call is abandoned at once, its tokens so far counted
     */
    public ModelAnswer complete(ModelRequest request, ModelListener listener) throws ModelException, InterruptedException {
        requireNonNull(request, "request");
        requireNonNull(listener, "listener");
        var span = tracer.modelCall(options.model());
        try {
            var answer = completeWithRetries(request, listener);
            JobTracer.answered(span, options.model(), answer.usage().promptTokens(), answer.usage().completionTokens(),
                    answer.cut() ? "length" : answer.message().toolCalls().filter(calls -> !calls.isEmpty()).isPresent()
                            ? "tool_calls" : "stop");
            return answer;
        } catch (ModelException | InterruptedException | RuntimeException e) {
            JobTracer.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    private ModelAnswer completeWithRetries(ModelRequest request, ModelListener listener)
            throws ModelException, InterruptedException {
        var params = params(request);
        for (int attempt = 0; ; attempt++) {
            var outcome = attempt(params, request, listener);
            if (outcome instanceof Attempt.Answered answered) {
                return answered.answer();
            }
            var failure = ((Attempt.Failed) outcome).failure();
            if (!failure.retryable() || attempt >= options.maxRetries()) {
                var exception = failure.exception();
                throw attempt == 0 ? exception : new ModelException(exception.kind(),
                        exception.getMessage() + " (" + (attempt + 1) + " attempts)");
            }
            var backoff = max(backoff(attempt), failure.retryAfter());
            log.info("Model call failed ({}); retrying in {} ms", failure.exception().getMessage(), backoff.toMillis());
            Thread.sleep(backoff);
        }
    }

    private sealed interface Attempt {
        record Answered(ModelAnswer answer) implements Attempt {}

        record Failed(ModelFailures.Failure failure) implements Attempt {}
    }

    /** What the stream delivers to the calling thread, in order. */
    private sealed interface Streamed {
        record Chunk(ChatCompletionChunk chunk) implements Streamed {}

        record Ended(@Nullable Throwable error) implements Streamed {}
    }

    /**
     * One attempt. The chunks come on the client's threads and are taken here, so the caller's
     * wait is the one that times out (no chunk for the idle timeout) or is interrupted; either
     * closes the stream, which cancels the HTTP call even before its answer began.
     */
    private Attempt attempt(ChatCompletionCreateParams params, ModelRequest request, ModelListener listener)
            throws InterruptedException {
        var accumulator = ChatCompletionAccumulator.create();
        var generated = new StringBuilder();
        var delivered = new LinkedBlockingQueue<Streamed>();
        var stream = client.async().chat().completions().createStreaming(params);
        stream.subscribe(new AsyncStreamResponse.Handler<ChatCompletionChunk>() {
            @Override
            public void onNext(ChatCompletionChunk chunk) {
                delivered.add(new Streamed.Chunk(chunk));
            }

            @Override
            public void onComplete(Optional<Throwable> error) {
                delivered.add(new Streamed.Ended(error.orElse(null)));
            }
        });
        ModelFailures.Failure failure;
        try {
            failure = take(delivered, accumulator, generated, listener);
        } catch (InterruptedException e) {
            stream.close();
            // The server had the request: count it, and what came back, before giving up.
            listener.onAttempt(new TokenUsage(request.promptTokens(), Tokens.count(generated.toString()), false));
            throw e;
        }
        if (failure != null) {
            stream.close();
            long sent = failure.reachedServer() ? request.promptTokens() : 0;
            listener.onAttempt(new TokenUsage(sent, Tokens.count(generated.toString()), false));
            return new Attempt.Failed(failure);
        }
        ChatCompletion completion;
        try {
            completion = accumulator.chatCompletion();
        } catch (IllegalStateException e) {
            var unreadable = String.valueOf(e.getMessage()).contains("not yet received") ? failures.incomplete()
                    : failures.unreadable(e.getMessage());
            listener.onAttempt(new TokenUsage(request.promptTokens(), Tokens.count(generated.toString()), false));
            return new Attempt.Failed(unreadable);
        }
        var usage = completion.usage()
                .map(u -> new TokenUsage(u.promptTokens(), u.completionTokens(), true))
                .orElseGet(() -> new TokenUsage(request.promptTokens(), Tokens.count(generated.toString()), false));
        listener.onAttempt(usage);
        if (completion.choices().isEmpty()) {
            return new Attempt.Failed(failures.status(200, "the answer held no choices"));
        }
        var choice = completion.choices().get(0);
        return new Attempt.Answered(new ModelAnswer(choice.message(),
                choice.finishReason().equals(ChatCompletion.Choice.FinishReason.LENGTH), usage));
    }

    /** Takes chunks until the stream ends; the failure, or null when it ended well. */
    private ModelFailures.@Nullable Failure take(LinkedBlockingQueue<Streamed> delivered,
            ChatCompletionAccumulator accumulator, StringBuilder generated, ModelListener listener)
            throws InterruptedException {
        long idle = options.idleTimeout().toNanos();
        while (true) {
            var next = delivered.poll(idle, TimeUnit.NANOSECONDS);
            switch (next) {
                case null -> {
                    return failures.stalled(Tokens.count(generated.toString()));
                }
                case Streamed.Chunk(var chunk) -> {
                    try {
                        accumulator.accumulate(chunk);
                    } catch (IllegalStateException e) {
                        return failures.unreadable(e.getMessage());
                    }
                    forward(chunk, generated, listener);
                }
                case Streamed.Ended(var error) -> {
                    return error == null ? null : failures.of(error);
                }
            }
        }
    }

    private static void forward(ChatCompletionChunk chunk, StringBuilder generated, ModelListener listener) {
        for (var choice : chunk.choices()) {
            var delta = choice.delta();
            delta.content().filter(text -> !text.isEmpty()).ifPresent(text -> {
                generated.append(text);
                listener.onText(text);
            });
            delta.toolCalls().ifPresent(calls -> calls.forEach(call -> call.function().ifPresent(function -> {
                function.name().ifPresent(generated::append);
                function.arguments().ifPresent(generated::append);
            })));
        }
    }

    private ChatCompletionCreateParams params(ModelRequest request) {
        var builder = ChatCompletionCreateParams.builder()
                .model(options.model())
                .messages(request.messages())
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build());
        long cap = maxTokensFor(request.promptTokens());
        // OpenAI's reasoning models refuse max_tokens; llama.cpp, vLLM and Ollama all read it.
        if (openAi) {
            builder.maxCompletionTokens(cap);
        } else {
            // (openai-java marks max_tokens deprecated, as OpenAI does; these servers have no other name for it.)
            builder.putAdditionalBodyProperty("max_tokens", JsonValue.from(cap));
        }
        if (!request.tools().isEmpty()) {
            builder.tools(request.tools());
        }
        return builder.build();
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    private static Duration backoff(int attempt) {
        long millis = Math.min(MAX_BACKOFF.toMillis(), FIRST_BACKOFF.toMillis() << Math.min(attempt, 10));
        return Duration.ofMillis(millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
    }

    @Override
    public void close() {
        client.close();
    }
}
