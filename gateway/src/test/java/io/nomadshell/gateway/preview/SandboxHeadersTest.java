package io.nomadshell.gateway.preview;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class SandboxHeadersTest {
    private static final String ORIGIN = "http://p8888-jabcdefghijklmnopqrst.localhost:8081";
    private static final PortTarget JUPYTER = new PortTarget(8888, Path.of("/tmp/b.sock"), "/api?x=1", ORIGIN, "t0ken");
    private static final PortTarget PLAIN = new PortTarget(8000, Path.of("/tmp/b.sock"), "/", ORIGIN, null);

    @Test
    void theSandboxGetsNoneOfTheBrowsersCredentialsButItsOwnToken() {
        var browser = RequestHeaders.builder(HttpMethod.POST, "/api?x=1")
                .authority("p8888-jabcdefghijklmnopqrst.localhost:8081")
                .add("authorization", "Bearer the-api-key")
                .add("cookie", "nomad_shell_preview=link; _xsrf=abc")
                .add("origin", ORIGIN)
                .add("accept-encoding", "gzip")
                .add("x-custom", "kept")
                .build();
        var jupyter = SandboxHeaders.request(browser, JUPYTER);
        assertThat(jupyter.authority()).isEqualTo("127.0.0.1:8888");
        assertThat(jupyter.path()).isEqualTo("/api?x=1");
        assertThat(jupyter.getAll("authorization")).containsExactly("token t0ken");
        assertThat(jupyter.getAll("cookie")).containsExactly("_xsrf=abc");
        assertThat(jupyter.get("origin")).as("its own origin, as the sandbox sees it").isEqualTo("http://127.0.0.1:8888");
        assertThat(jupyter.get("accept-encoding")).as("plain bodies, to mask the token in").isNull();
        assertThat(jupyter.get("x-custom")).isEqualTo("kept");

        var plain = SandboxHeaders.request(browser.toBuilder().set("origin", "http://elsewhere.localhost").build(), PLAIN);
        assertThat(plain.get("authorization")).isNull();
        assertThat(plain.get("origin")).isEqualTo("http://elsewhere.localhost");
        assertThat(plain.get("accept-encoding")).isEqualTo("gzip");
    }

    @Test
    void theAnswerCannotSetStateBeyondItsOrigin() {
        var sandbox = ResponseHeaders.builder(HttpStatus.FOUND)
                .add("set-cookie", "host_only=1; Path=/")
                .add("set-cookie", "x=1; Domain=localhost")
                .add("set-cookie", "y=1; path=/; DOMAIN = .localhost")
                .add("set-cookie", "nomad_shell_preview=planted; Path=/")
                .add("set-cookie", "NOMAD_SHELL_PREVIEW=planted")
                .add("strict-transport-security", "max-age=1")
                .add("alt-svc", "h3=\":443\"")
                .add("clear-site-data", "\"*\"")
                .add("public-key-pins", "x")
                .add("public-key-pins-report-only", "x")
                .add("location", "http://127.0.0.1:8888/lab?x=1")
                .build();
        var answer = SandboxHeaders.answer(sandbox, JUPYTER);
        assertThat(answer.getAll("set-cookie")).containsExactly("host_only=1; Path=/");
        assertThat(answer.names()).extracting(Object::toString).doesNotContain("strict-transport-security", "alt-svc",
                "clear-site-data", "public-key-pins", "public-key-pins-report-only");
        assertThat(answer.get("location")).isEqualTo(ORIGIN + "/lab?x=1");
    }
}
