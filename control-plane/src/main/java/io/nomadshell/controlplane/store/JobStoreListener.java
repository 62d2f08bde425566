package io.nomadshell.controlplane.store;

import io.nomadshell.proto.v1.JobEvent;

/** Hears what a {@link JobStore} wrote, after it was written: each event, and model usage. */
public interface JobStoreListener {
    /** Hears nothing. */
    JobStoreListener NONE = new JobStoreListener() {
        @Override
        public void onEvent(JobEvent event) {}

        @Override
        public void onUsage(int steps, long promptTokens, long completionTokens) {}
    };

    /** An event was appended to a job's stream (status changes included). */
    void onEvent(JobEvent event);

    /** Model calls and tokens were counted toward a job. */
    void onUsage(int steps, long promptTokens, long completionTokens);
}
