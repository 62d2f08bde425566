package io.nomadshell.controlplane.store;

/**
 * A write of a job's owner that Redis refused because the lease it was made under is no longer the
 * job's: it lapsed, or another control plane took the job over. The writer must stop driving the job.
 */
public final class LeaseLostException extends RuntimeException {
    LeaseLostException(String message) {
        super(message);
    }
}
