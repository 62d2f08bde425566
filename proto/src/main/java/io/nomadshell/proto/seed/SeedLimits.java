package io.nomadshell.proto.seed;

/**
 * Caps on an unpacked seed archive.
 *
 * @param maxBytes the bytes of all its files together, uncompressed
 * @param maxEntries its entries of every kind (files, directories, links)
 */
public record SeedLimits(long maxBytes, int maxEntries) {
    /** 64 MiB in at most 10,000 entries. */
    public static final SeedLimits DEFAULTS = new SeedLimits(64L * 1024 * 1024, 10_000);

    public SeedLimits {
        if (maxBytes <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("seed limits must be positive: " + maxBytes + " bytes, " + maxEntries + " entries");
        }
    }

    /** The same entry cap with at most {@code bytes}. */
    public SeedLimits atMost(long bytes) {
        return new SeedLimits(Math.min(maxBytes, bytes), maxEntries);
    }
}
