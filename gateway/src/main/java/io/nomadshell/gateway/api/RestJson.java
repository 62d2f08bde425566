package io.nomadshell.gateway.api;

import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import io.grpc.ServiceDescriptor;

/** The JSON of the REST face: snake_case field names (job_id, download_url), as in the .proto. */
public final class RestJson {
    private RestJson() {}

    /** For transcoding ({@code GrpcServiceBuilder.jsonMarshallerFactory}) and for routes that answer in its place. */
    public static GrpcJsonMarshaller marshaller(ServiceDescriptor service) {
        return GrpcJsonMarshaller.builder()
                .jsonMarshallerCustomizer(json -> json.preservingProtoFieldNames(true))
                .build(service);
    }
}
