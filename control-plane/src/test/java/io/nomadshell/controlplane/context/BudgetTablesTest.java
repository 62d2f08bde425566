package io.nomadshell.controlplane.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionMessageParam;
import com.openai.models.chat.completions.ChatCompletionUserMessageParam;
import io.nomadshell.controlplane.model.KnownWindows;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Model windows, prices, counting a message's tokens and cutting text to a number of tokens. */
class BudgetTablesTest {
    @Test
    void knownModelsHaveTheirWindowAndTheirPromptsLeaveRoomForTheAnswer() {
        assertThat(KnownWindows.windowOf("gpt-4o-2024-08-06")).isEqualTo(128_000);
        assertThat(KnownWindows.windowOf("gpt-4o-mini")).isEqualTo(128_000);
        assertThat(KnownWindows.isKnown("some-local-model")).isFalse();
        assertThat(KnownWindows.windowOf("some-local-model")).isEqualTo(KnownWindows.UNKNOWN_WINDOW);
        assertThat(ContextOptions.promptBudget(128_000, 4_096)).isEqualTo(128_000 - 4_096);
        assertThat(ContextOptions.promptBudget(2_048, 4_096)).isEqualTo(1_536);
    }

    @Test
    void pricesComeFromTheTableOverriddenByTheOperator() {
        var table = PriceTable.parse("gpt-4o=5/20, my-model = 1/2");
        assertThat(table.priceOf("gpt-4o-2024-08-06").cost(1_000_000, 1_000_000)).isEqualTo(25.0);
        assertThat(table.priceOf("gpt-4o-mini").promptUsd()).isEqualTo(0.15);
        assertThat(table.priceOf("my-model").cost(500_000, 0)).isEqualTo(0.5);
        assertThat(table.priceOf("unknown").cost(1_000_000, 1_000_000)).isZero();
    }

    @Test
    void malformedPricesAreNamed() {
        assertThatThrownBy(() -> PriceTable.parse("gpt-4o=cheap/1")).hasMessageContaining("'gpt-4o=cheap/1'");
        assertThatThrownBy(() -> PriceTable.parse("gpt-4o")).hasMessageContaining("model=prompt/completion");
        assertThatThrownBy(() -> PriceTable.parse("m=-1/1")).hasMessageContaining("zero or more");
    }

    @Test
    void tooSmallAWindowIsRefusedAndTheAnswerGetsAtMostAQuarter() {
        assertThatThrownBy(() -> new ContextOptions(1_000, 0, 0, PriceTable.BUILT_IN)).hasMessageContaining("at least 1024");
        assertThat(new ContextOptions(1_024, 0, 0, PriceTable.BUILT_IN).contextTokens()).isEqualTo(1_024);
        assertThat(ContextOptions.promptBudget(2_048, 4_096)).isEqualTo(1_536);
        assertThat(ContextOptions.promptBudget(1_024, 4_096)).isEqualTo(768);
        assertThat(ContextOptions.promptBudget(128_000, 4_096)).isEqualTo(128_000 - 4_096);
    }

    @Test
    void anImageCountsAFixedCostAndItsTextIsCounted() {
        var screenshot = ChatCompletionMessageParam.ofUser(ChatCompletionUserMessageParam.builder()
                .contentOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("the screen now").build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder()
                                .imageUrl(ChatCompletionContentPartImage.ImageUrl.builder()
                                        .url("data:image/png;base64," + "A".repeat(100_000)).build())
                                .build())))
                .build());
        assertThat(MessageTokens.count(screenshot))
                .isEqualTo(MessageTokens.PER_MESSAGE + Tokens.count("the screen now") + MessageTokens.IMAGE_TOKENS);
    }

    @Test
    void shortenKeepsHeadAndTailWithinTheTokens() {
        var text = "head\n" + "lorem ipsum dolor sit amet ".repeat(2_000) + "\ntail";
        var shortened = Tokens.shorten(text, 300, "\n[%d characters cut]\n");
        assertThat(Tokens.count(shortened)).isLessThanOrEqualTo(300);
        assertThat(shortened).startsWith("head").endsWith("tail").containsPattern("\\[\\d+ characters cut]");
        assertThat(Tokens.shorten("short", 300, "cut")).isEqualTo("short");
    }
}
