package io.nomadshell.controlplane.artifact;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/** What a job that has ended keeps of its workspace: a zip, or nothing and why. */
public sealed interface KeptWorkspace {
    /**
     * The longest a job's end waits for the zip of what it left, when it did not complete: a partial
     * zip that takes longer is not kept, so a failing or cancelled job ends soon.
     */
    Duration PARTIAL_ZIP_TIME = Duration.ofSeconds(30);

    /**
     * How long after a running job was cancelled its partial zip may still come (its runner first has
     * to notice the cancel, then zip within {@link #PARTIAL_ZIP_TIME}). Watchers wait this long at most.
     */
    Duration PARTIAL_ZIP_AFTER_CANCEL = PARTIAL_ZIP_TIME.multipliedBy(2);

    /**
     * A zip in the artifact store.
     *
     * @param partial whether it holds what a job that did not complete left (error, cancelled)
     */
    record Zip(long bytes, String sha256, boolean partial) implements KeptWorkspace {
        public Zip {
            requireNonNull(sha256, "sha256");
        }
    }

    /**
     * No zip.
     *
     * @param note why, as the end of "job j1 ended (error) and ...": "left no files (its workspace was empty)"
     */
    record Nothing(String note) implements KeptWorkspace {
        public Nothing {
            requireNonNull(note, "note");
        }

        /** The workspace held no file. */
        public static Nothing noFiles(String why) {
            return new Nothing("left no files (" + why + ")");
        }

        /** The workspace may have held files, but they could not be kept. */
        public static Nothing lost(String why) {
            return new Nothing("kept nothing of its workspace: " + why);
        }
    }
}
