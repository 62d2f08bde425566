package io.nomadshell.controlplane.store;

/** The Redis key layout, in one place. */
final class Keys {
    static final String QUEUE = "ns:queue";
    static final String QUEUE_GROUP = "dispatchers";
    static final String ACTIVE = "ns:active";
    static final String EVENTS_CHANNEL = "ns:events";
    static final String CANCEL_CHANNEL = "ns:cancel";

    private Keys() {}

    static String job(String id) {
        return "ns:job:" + id;
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

    static String output(String id, String handle) {
        return "ns:output:" + id + ":" + handle;
    }

    static String screenshot(String id, String callId) {
        return "ns:screenshot:" + id + ":" + callId;
    }

    static String lease(String id) {
        return "ns:lease:" + id;
    }

    static String ownerIndex(String owner) {
        return "ns:owner:" + owner + ":jobs";
    }

    static String idempotency(String owner, String key) {
        return "ns:idem:" + owner + ":" + key;
    }

    /** Set once, when the launch credential with this nonce is spent by its first Attach. */
    static String spentLaunch(String id, String nonce) {
        return "ns:attach:spent:" + id + ":" + nonce;
    }

    /** The SHA-256 of the job's current resume secret. */
    static String resumeSecret(String id) {
        return "ns:attach:resume:" + id;
    }
}
