package io.nomadshell.controlplane.agent;

import static java.util.Objects.requireNonNull;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.OpenAIServiceException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionTool;
import java.time.Duration;
import java.util.List;

/** Chat Completions with tools against any OpenAI-compatible endpoint. */
public final class ModelClient implements AutoCloseable {
    private final OpenAIClient client;
    private final String model;

    public ModelClient(ModelOptions options) {
        requireNonNull(options, "options");
        var builder = OpenAIOkHttpClient.builder()
                .apiKey(options.apiKey())
                .maxRetries(options.maxRetries())
                .timeout(Duration.ofMinutes(5));
        if (options.baseUrl() != null) {
            builder.baseUrl(options.baseUrl());
        }
        this.client = builder.build();
        this.model = options.model();
    }

    /**
     * One model call.
     *
     * @throws ModelException when the endpoint fails after its retries, with the endpoint's words
     */
    public ChatCompletion complete(List<ChatCompletionMessageParam> messages) throws ModelException {
        return complete(messages, ToolCatalogue.definitions());
    }

    /** One model call offering these tools (none: a plain answer, as for a summary). */
    public ChatCompletion complete(List<ChatCompletionMessageParam> messages, List<ChatCompletionTool> tools)
            throws ModelException {
        var builder = ChatCompletionCreateParams.builder().model(model).messages(messages);
        if (!tools.isEmpty()) {
            builder.tools(tools);
        }
        var params = builder.build();
        try {
            return client.chat().completions().create(params);
        } catch (OpenAIServiceException e) {
            throw new ModelException("the model endpoint answered " + e.statusCode() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            throw new ModelException("the model endpoint could not be reached: " + e.getMessage());
        }
    }

    /** The model requests go to. */
    public String model() {
        return model;
    }

    @Override
    public void close() {
        client.close();
    }

    /** A model call that failed for good; the message is the job's error. */
    public static final class ModelException extends Exception {
        public ModelException(String message) {
            super(message, null, false, false);
        }
    }
}
