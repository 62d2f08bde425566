package io.nomadshell.controlplane.model;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What this control plane knows of the model it talks to, shared by all its jobs: its window and
 * tool support (from the server, a flag, or the table of known models), whether it takes images
 * (until it refuses one), and how its tokenizer counts against ours.
 */
public final class ModelProfile {
    /**
     * What calibration learns stays between what o200k counts and double it; each refusal of a
     * request as too long makes it a quarter larger, up to {@link #MAX_DISTRUST}.
     */
    private static final double MIN_RATIO = 1.0;
    private static final double MAX_RATIO = 2.0;
    private static final double MAX_DISTRUST = 4.0;

    private final String model;
    private final int window;
    private final Optional<Boolean> supportsTools;
    private volatile boolean acceptsImages = true;
    private volatile double ratio = MIN_RATIO;

    public ModelProfile(String model, int window, Optional<Boolean> supportsTools) {
        this.model = requireNonNull(model, "model");
        this.supportsTools = requireNonNull(supportsTools, "supportsTools");
        if (window <= 0) {
            throw new IllegalArgumentException("the context window must be positive, not " + window);
        }
        this.window = window;
    }

    public String model() {
        return model;
    }

    /** The model's context window in tokens, as the server counts them. */
    public int window() {
        return window;
    }

    /** Whether the server's chat template carries tools; empty when the server does not say. */
    public Optional<Boolean> supportsTools() {
        return supportsTools;
    }

    public boolean acceptsImages() {
        return acceptsImages;
    }

    /** The server refused an image part: from now on images are described in words. */
    public void refuseImages() {
        acceptsImages = false;
    }

    /** How many of the server's tokens one of ours is worth (at least 1). */
    public double ratio() {
        return ratio;
    }

    /** Learns from a request this side counted as {@code counted} that the server counted {@code reported}. */
    public void calibrate(int counted, long reported) {
        if (counted <= 0 || reported <= 0) {
            return;
        }
        double seen = Math.min(MAX_RATIO, Math.max(MIN_RATIO, (double) reported / counted));
        // The largest seen wins: a budget that is too small costs a little room, one too large a refusal.
        if (seen > ratio) {
            ratio = seen;
        }
    }

    /** Makes counts larger by {@code factor} after the server refused a request as too long. */
    public void distrust(double factor) {
        ratio = Math.min(MAX_DISTRUST, ratio * Math.max(1.0, factor));
    }

    /** {@code counted} of our tokens in the server's tokens. */
    public int scale(int counted) {
        return (int) Math.ceil(counted * ratio);
    }
}
