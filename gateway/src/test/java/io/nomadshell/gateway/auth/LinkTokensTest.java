package io.nomadshell.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LinkTokensTest {
    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
    private static final byte[] KEY = key(1);
    private final LinkTokens links = new LinkTokens(KEY, Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void aLinkOpensItsJobsPortForItsOwnerUntilItExpires() {
        var token = links.issue("jabc", 8000, "key-1", NOW.plusSeconds(60));
        assertThat(links.verify(token, "jabc", 8000)).isEqualTo(new LinkTokens.Verdict.Allowed("key-1"));
        var sameKey = new LinkTokens(KEY.clone(), Clock.fixed(NOW.plusSeconds(30), ZoneOffset.UTC));
        assertThat(sameKey.verify(token, "jabc", 8000)).as("another replica of the deployment")
                .isEqualTo(new LinkTokens.Verdict.Allowed("key-1"));
        var otherKey = new LinkTokens(key(2), Clock.fixed(NOW, ZoneOffset.UTC));
        assertThat(otherKey.verify(token, "jabc", 8000)).as("another deployment's key")
                .isEqualTo(new LinkTokens.Verdict.Refused("the link's signature is not valid"));
        var expired = links.issue("jabc", 8000, "key-1", NOW.minusSeconds(1));
        assertThat(links.verify(expired, "jabc", 8000)).isEqualTo(new LinkTokens.Verdict.Refused("the link has expired; ask for a new one"));
    }

    @Test
    void aLinkIsForOneJobAndPortAndCannotBeAltered() {
        var token = links.issue("jabc", 8000, "key-1", NOW.plusSeconds(60));
        var elsewhere = new LinkTokens.Verdict.Refused("the link is for another job or port");
        assertThat(links.verify(token, "jother", 8000)).isEqualTo(elsewhere);
        assertThat(links.verify(token, "jabc", 8001)).isEqualTo(elsewhere);
        var longer = token.replace("." + NOW.plusSeconds(60).getEpochSecond() + ".", "." + NOW.plusSeconds(6000).getEpochSecond() + ".");
        assertThat(links.verify(longer, "jabc", 8000)).isEqualTo(new LinkTokens.Verdict.Refused("the link's signature is not valid"));
        var otherOwner = token.replace(".key-1.", ".key-2.");
        assertThat(links.verify(otherOwner, "jabc", 8000)).isEqualTo(new LinkTokens.Verdict.Refused("the link's signature is not valid"));
        var otherPort = token.replace(".8000.", ".8001.");
        assertThat(links.verify(otherPort, "jabc", 8001)).isEqualTo(new LinkTokens.Verdict.Refused("the link's signature is not valid"));
        assertThat(links.verify("v1.jabc.123.sig", "jabc", 8000)).as("a daemon token is no link")
                .isEqualTo(new LinkTokens.Verdict.Refused("the link is malformed"));
    }

    private static byte[] key(int fill) {
        var key = new byte[32];
        Arrays.fill(key, (byte) fill);
        return key;
    }
}
