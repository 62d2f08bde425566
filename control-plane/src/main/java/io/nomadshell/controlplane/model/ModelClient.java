package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.time.Duration;

/**
 * Chat Completions with tools against any OpenAI-compatible endpoint: every call bounded (an
 * output cap within the window), streamed, and failed with its real cause in words.
 */
public final class ModelClient implements AutoCloseable {
    private final OpenAIClient client;
    private final ModelOptions options;
    private final ModelProfile profile;

    private ModelClient(ModelOptions options, ModelProfile profile) {
        this.options = options;
        this.profile = profile;
        var builder = OpenAIOkHttpClient.builder()
                .apiKey(options.apiKey())
                .maxRetries(options.maxRetries())
                .timeout(Duration.ofMinutes(5));
        if (options.baseUrl() != null) {
            builder.baseUrl(options.baseUrl());
        }
        this.client = builder.build();
    }

    /**
     * A client for the endpoint, with what the server says of its model (window, tool support)
     * read once here; {@code window} overrides the server's window when positive.
     */
    public static ModelClient connect(ModelOptions options, int window) {
        requireNonNull(options, "options");
        return new ModelClient(options, new ModelProfile(options.model(),
                window > 0 ? window : KnownWindows.windowOf(options.model()), java.util.Optional.empty()));
    }

    public ModelProfile profile() {
        return profile;
    }

    /** The model requests go to. */
    public String model() {
        return options.model();
    }

    /** The output cap of a request of {@code promptTokens} (server tokens): the flag's, within what the window has left. */
    public int maxTokensFor(int promptTokens) {
        return Math.max(1, Math.min(options.maxOutputTokens(), profile.window() - promptTokens));
    }

    /**
     * One model call, retried where a retry can help.
     *
     * @throws ModelException when the call failed for good, with the real cause in words
     */
    public ModelAnswer complete(ModelRequest request, ModelListener listener) throws ModelException {
        var builder = ChatCompletionCreateParams.builder().model(options.model()).messages(request.messages())
                .maxCompletionTokens(maxTokensFor(request.promptTokens()));
        if (!request.tools().isEmpty()) {
            builder.tools(request.tools());
        }
        try {
            var completion = client.chat().completions().create(builder.build());
            var usage = new TokenUsage(completion.usage().map(u -> u.promptTokens()).orElse(0L),
                    completion.usage().map(u -> u.completionTokens()).orElse(0L), completion.usage().isPresent());
            listener.onAttempt(usage);
            if (completion.choices().isEmpty()) {
                throw new ModelException(ModelException.Kind.REFUSED, "the model returned no answer");
            }
            var choice = completion.choices().get(0);
            choice.message().content().ifPresent(listener::onText);
            return new ModelAnswer(choice.message(),
                    choice.finishReason().equals(com.openai.models.chat.completions.ChatCompletion.Choice.FinishReason.LENGTH),
                    usage);
        } catch (OpenAIServiceException e) {
            throw new ModelException(ModelException.Kind.REFUSED, "the model endpoint answered " + e.statusCode() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new ModelException(ModelException.Kind.UNREACHABLE, "the model endpoint could not be reached: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        client.close();
    }
}
