package io.nomadshell.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import java.util.Map;

/**
 * Lets {@code POST /schedule} take the task as a plain-text body too (what {@code curl -d 'Build …'}
 * sends): such a body is rewritten as {@code {"task": "…"}} and handed to the transcoded Schedule.
 */
public final class PlainTextTasks implements DecoratingHttpServiceFunction {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
        var type = req.contentType();
        if (type != null && type.isJson()) {
            return delegate.serve(ctx, req);
        }
        if (type != null && !type.is(MediaType.PLAIN_TEXT) && !type.is(MediaType.FORM_DATA)) {
            return JsonErrors.of(HttpStatus.UNSUPPORTED_MEDIA_TYPE,
                    Status.Code.INVALID_ARGUMENT,
                    "send the task as JSON {\"task\": \"...\"} or as a text/plain body, not " + type);
        }
        return HttpResponse.of(req.aggregate().thenApply(body -> {
            var json = toJson(body.contentUtf8());
            var rewritten = HttpRequest.of(req.headers().toBuilder()
                    .contentType(MediaType.JSON_UTF_8)
                    .removeAndThen(HttpHeaderNames.CONTENT_LENGTH)
                    .build(), HttpData.ofUtf8(json));
            ctx.updateRequest(rewritten);
            try {
                return delegate.serve(ctx, rewritten);
            } catch (Exception e) {
                return HttpResponse.ofFailure(e);
            }
        }));
    }

    private static String toJson(String task) {
        try {
            return JSON.writeValueAsString(Map.of("task", task));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
