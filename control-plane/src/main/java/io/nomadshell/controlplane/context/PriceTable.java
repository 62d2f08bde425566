package io.nomadshell.controlplane.context;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a model's tokens cost, in US dollars per million prompt and completion tokens. Names match
 * by prefix, longest first. The built-in figures are list prices at the time of writing; operators
 * set their own with {@link #parse}, which are looked up before the built-in ones.
 */
public final class PriceTable {
    /** Per million tokens. */
    public record Price(double promptUsd, double completionUsd) {
        public Price {
            if (!(promptUsd >= 0) || !(completionUsd >= 0)) {
                throw new IllegalArgumentException("prices must be zero or more");
            }
        }

        public double cost(long promptTokens, long completionTokens) {
            return (promptTokens * promptUsd + completionTokens * completionUsd) / 1_000_000.0;
        }
    }

    public static final PriceTable BUILT_IN = new PriceTable(Map.ofEntries(
            Map.entry("gpt-4o", new Price(2.50, 10.00)),
            Map.entry("gpt-4o-mini", new Price(0.15, 0.60)),
            Map.entry("gpt-4.1", new Price(2.00, 8.00)),
            Map.entry("gpt-4.1-mini", new Price(0.40, 1.60)),
            Map.entry("gpt-5", new Price(1.25, 10.00)),
            Map.entry("gpt-5-mini", new Price(0.25, 2.00)),
            Map.entry("o3", new Price(2.00, 8.00)),
            Map.entry("o4-mini", new Price(1.10, 4.40))));

    private final Map<String, Price> prices;

    private PriceTable(Map<String, Price> prices) {
        this.prices = Map.copyOf(prices);
    }

    /**
     * The built-in table overridden by {@code spec}: {@code model=prompt/completion,...} in dollars
     * per million tokens, e.g. {@code gpt-4o=2.5/10,my-local-model=0/0}.
     *
     * @throws IllegalArgumentException with the faulty entry named
     */
    public static PriceTable parse(String spec) {
        requireNonNull(spec, "spec");
        var all = new LinkedHashMap<>(BUILT_IN.prices);
        for (var entry : spec.split(",")) {
            var trimmed = entry.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            int eq = trimmed.indexOf('=');
            int slash = trimmed.indexOf('/', Math.max(eq, 0));
            if (eq <= 0 || slash < 0) {
                throw new IllegalArgumentException("price entry '" + trimmed + "' is not model=prompt/completion");
            }
            try {
                all.put(trimmed.substring(0, eq).strip().toLowerCase(Locale.ROOT), new Price(
                        Double.parseDouble(trimmed.substring(eq + 1, slash).strip()),
                        Double.parseDouble(trimmed.substring(slash + 1).strip())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("price entry '" + trimmed + "' has a price that is not a number");
            }
        }
        return new PriceTable(all);
    }

    /** The price of the model; a model the table does not know costs nothing (a local model). */
    public Price priceOf(String model) {
        var name = requireNonNull(model, "model").toLowerCase(Locale.ROOT);
        String best = null;
        for (var known : prices.keySet()) {
            if (name.startsWith(known) && (best == null || known.length() > best.length())) {
                best = known;
            }
        }
        return best == null ? new Price(0, 0) : prices.get(best);
    }
}
