package io.nomadshell.controlplane.store;

/** A job handed out by the {@link JobQueue}; acknowledge it once it has been taken over. */
public record QueuedJob(String entryId, String jobId) {}
