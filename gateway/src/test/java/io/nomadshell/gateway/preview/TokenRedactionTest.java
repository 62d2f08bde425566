package io.nomadshell.gateway.preview;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.stream.StreamMessage;
import org.junit.jupiter.api.Test;

class TokenRedactionTest {
    private static final String TOKEN = "s3cr3t-token";

    @Test
    void theTokenIsMaskedHoweverTheBodyIsCut() {
        var body = "<body data-token=\"" + TOKEN + "\">" + TOKEN + " and " + TOKEN.substring(0, 5) + "</body>";
        for (int cut = 1; cut < body.length(); cut++) {
            var answer = HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.HTML_UTF_8)
                            .contentLength(body.length()).build(),
                    StreamMessage.of(HttpData.ofUtf8(body.substring(0, cut)), HttpData.ofUtf8(body.substring(cut))));
            var seen = TokenRedaction.masked(answer, TOKEN).aggregate().join();
            assertThat(seen.status()).isEqualTo(HttpStatus.OK);
            assertThat(seen.contentUtf8()).as("cut at %d", cut)
                    .isEqualTo(body.replace(TOKEN, "x".repeat(TOKEN.length())))
                    .hasSize(body.length());
        }
    }

    @Test
    void anEmptyBodyStaysEmpty() {
        var seen = TokenRedaction.masked(HttpResponse.of(HttpStatus.NO_CONTENT), TOKEN).aggregate().join();
        assertThat(seen.status()).isEqualTo(HttpStatus.NO_CONTENT);
        assertThat(seen.contentUtf8()).isEmpty();
    }
}
