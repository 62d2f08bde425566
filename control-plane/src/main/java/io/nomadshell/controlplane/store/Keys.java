package io.nomadshell.controlplane.store;

/** The Redis key layout, in one place. */
final class Keys {
    static final String QUEUE = "ns:queue";
    static final String QUEUE_GROUP = "dispatchers";
    static final String ACTIVE = "ns:active";
    /** Ended jobs by the time they ended (member {@code <id>:<owner>}), for the retention sweeper. */
    static final String ENDED = "ns:ended";
    static final String EVENTS_CHANNEL = "ns:events";
    static final String CANCEL_CHANNEL = "ns:cancel";
    /** The deployment's shared keys, one field a key ({@link SharedSecrets}). */
    static final String SECRETS = "ns:secrets";
    /** Webhook deliveries by when they are due (ms), member: delivery id ({@link WebhookQueue}). */
    static final String WEBHOOKS_DUE = "ns:webhooks:due";
    /** Webhook delivery records: delivery id → JSON ({@link WebhookQueue}). */
    static final String WEBHOOKS = "ns:webhooks";

    private Keys() {}

    static final String JOB_PREFIX = "ns:job:";

    static String job(String id) {
        return JOB_PREFIX + id;
    }

    static String events(String id) {
        return "ns:events:" + id;
    }

    static String transcript(String id) {
        return "ns:transcript:" + id;
    }

    static String context(String id) {
        return "ns:context:" + id;
    }

    /** The job's out-of-line tool outputs: one hash, field = handle, so the job's keys are a fixed few. */
    static String outputs(String id) {
        return "ns:outputs:" + id;
    }

    /** Messages the job's owner sent that its agent has not seen yet, oldest first. */
    static String inbox(String id) {
        return "ns:inbox:" + id;
    }

    /** The job's checkpoints: step → "commit files created-at(ms)". */
    static String checkpoints(String id) {
        return "ns:checkpoints:" + id;
    }

    static String lease(String id) {
        return "ns:lease:" + id;
    }

    /** Where replica {@code replicaId} takes requests of other replicas ({@link PeerDirectory}). */
    static String peer(String replicaId) {
        return "ns:peer:" + replicaId;
    }

    /** A replica serving the files of artifact store {@code storeId} ({@link PeerDirectory}). */
    static String storeServer(String storeId) {
        return "ns:store:" + storeId;
    }

    /** A replica-to-replica request's nonce, once spent. */
    static String peerNonce(String nonce) {
        return "ns:peer-nonce:" + nonce;
    }

    static String ownerIndex(String owner) {
        return "ns:owner:" + owner + ":jobs";
    }

    /**
     * The owner's jobs that have not ended, counted against the limits of the owner's API key. Scripts
     * that know only a job name it from the job's {@code owner} field (transition.lua), as Redis allows
     * outside a cluster.
     */
    static String ownerLive(String owner) {
        return "ns:owner:" + owner + ":live";
    }

    /** The owner's model use per UTC day: {@code <prefix><owner>:<days since 1970>} (a hash, expires the next day). */
    static final String USAGE_PREFIX = "ns:usage:";

    static String idempotency(String owner, String key) {
        return "ns:idem:" + owner + ":" + key;
    }

    /** The nonces of the job's launch credentials that an Attach has spent. */
    static String spentLaunches(String id) {
        return "ns:attach:spent:" + id;
    }

    /**
     * A spent launch nonce as servers before {@link #spentLaunches} kept it: still honoured, so that a
     * credential spent before an upgrade is not taken again; it expires with its credential.
     */
    static String spentLaunchBefore(String id, String nonce) {
        return "ns:attach:spent:" + id + ":" + nonce;
    }

    /** The SHA-256 of the job's current resume secret. */
    static String resumeSecret(String id) {
        return "ns:attach:resume:" + id;
    }

    /**
     * Every key of one job, in a fixed order: what expires when it ends and what the retention sweeper
     * deletes. Whatever a job writes under its id goes here.
     */
    static String[] ofJob(String id) {
        return new String[] {job(id), events(id), transcript(id), context(id), outputs(id), lease(id),
                spentLaunches(id), resumeSecret(id), inbox(id), checkpoints(id)};
    }
}
