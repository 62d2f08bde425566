package io.nomadshell.controlplane.seed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nomadshell.controlplane.job.JobException;
import io.nomadshell.controlplane.job.JobException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GitSourceTest {
    @Test
    void httpsAndHttpUrlsGiveTheirHostAndPort() {
        var github = GitSource.of("https://GitHub.com/o/r.git", "", null);
        assertThat(github.host()).isEqualTo("github.com");
        assertThat(github.port()).isEqualTo(443);
        assertThat(github.ref()).isEmpty();
        var local = GitSource.of("http://127.0.0.1:8080/r", "main", null);
        assertThat(local.host()).isEqualTo("127.0.0.1");
        assertThat(local.port()).isEqualTo(8080);
        var v6 = GitSource.of("http://[::1]:81/r", "", null);
        assertThat(v6.host()).isEqualTo("::1");
        assertThat(v6.port()).isEqualTo(81);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "file:///etc/passwd|git URLs of the kind file are refused",
            "FILE:///x|git URLs of the kind file are refused",
            "ssh://git@host/r.git|git URLs of the kind ssh are refused",
            "git://host/r.git|git URLs of the kind git are refused",
            "git@host:o/r.git|ssh (user@host:path)",
            "ext::sh|git URLs of the kind ext:: are refused",
            "fd::17|git URLs of the kind fd:: are refused",
            "/srv/repo.git|local paths are refused",
            "../repo|local paths are refused",
            "-uhttp://x/y|starts with '-'",
            "--upload-pack=touch|starts with '-'",
            "'http://x/a b'|spaces or control characters",
            "http://user:pw@host/r.git|may not hold a user or password",
            "https://token@host/r.git|may not hold a user or password",
            "https://host/r.git?token=x|may not have a query",
            "https://host/r.git#frag|may not have a query",
            "https:///r.git|has no host",
            "''|the git URL is empty"})
    void urlsOtherThanPlainHttpsAndHttpAreRefused(String url, String words) {
        assertThatThrownBy(() -> GitSource.of(url, "", null))
                .isInstanceOfSatisfying(JobException.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(words);
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"main", "feature/x", "v1.2.3", "refs/heads/main", "refs/tags/v1",
            "0123456789abcdef0123456789abcdef01234567", "abc1234"})
    void branchesTagsAndCommitsAreRefs(String ref) {
        assertThat(GitSource.of("https://h/r", ref, null).ref()).isEqualTo(ref);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-b", "--upload-pack=touch /tmp/x", "a..b", "a b", "a~1", "a^", "a:b", "a?", "a*", "a[",
            "a\\b", "@{-1}", "/main", "main/", "main.lock", ".hidden", "a/.b", "a//b", "main.", "@",
            "refs/remotes/origin/main", "refs/pull/1/head"})
    void refsGitCouldMisreadAreRefused(String ref) {
        assertThatThrownBy(() -> GitSource.of("https://h/r", ref, null))
                .isInstanceOfSatisfying(JobException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_ARGUMENT));
    }

    @Test
    void aCommitIdIsTellable() {
        assertThat(GitSource.of("https://h/r", "0123456789abcdef0123456789abcdef01234567", null).refIsCommit()).isTrue();
        assertThat(GitSource.of("https://h/r", "main", null).refIsCommit()).isFalse();
        assertThat(GitSource.of("https://h/r", "abc1234", null).refMayBeShortCommit()).isTrue();
    }

    @Test
    void aCredentialNeverShowsItsPassword() {
        var credential = new BasicCredential("x-access-token", "ghp_secret");
        var source = GitSource.of("https://h/r", "", credential);
        assertThat(credential.toString()).doesNotContain("ghp_secret");
        assertThat(source.toString()).doesNotContain("ghp_secret").contains("with a credential");
        // base64("x-access-token:ghp_secret")
        assertThat(credential.header()).isEqualTo("Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hwX3NlY3JldA==");
        assertThatThrownBy(() -> new BasicCredential("a:b", "c")).isInstanceOf(JobException.class);
        assertThatThrownBy(() -> new BasicCredential("a", "c\r\nX-Evil: 1")).isInstanceOf(JobException.class);
        assertThatThrownBy(() -> new BasicCredential("", "c")).isInstanceOf(JobException.class);
    }

    @Test
    void theOperatorsFileGivesCredentialsByHostAndNamesBadLinesWithoutTheirSecret(@TempDir Path dir) throws Exception {
        var file = Files.writeString(dir.resolve("creds"), "# private hosts\n\nGit.Example.com  bot:tok-1\n");
        var credentials = GitCredentials.read(file);
        assertThat(credentials.forHost("git.example.com")).contains(new BasicCredential("bot", "tok-1"));
        assertThat(credentials.forHost("other.example.com")).isEmpty();

        var bad = Files.writeString(dir.resolve("bad"), "host.example secret-without-user\n");
        assertThatThrownBy(() -> GitCredentials.read(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 1")
                .hasMessageNotContaining("secret-without-user");
    }
}
